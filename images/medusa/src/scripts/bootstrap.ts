// Makes a freshly migrated Medusa database a shop that can sell, and is safe to run again
// at any point: every step looks for what it would make and makes it only when there is
// none, so a second run (a retried setup pod, a store set up again) changes nothing and
// never touches what the merchant has made or changed since. Medusa's example seed script
// is not used: it creates everything again on every run.
//
// What a new store gets: the store named MEDUSA_STORE_NAME selling in one currency; a
// region paid through the system payment provider (`pp_system_default`: an order is paid
// by hand, outside Medusa) with its tax region; a stock location that ships to the
// region's countries through the manual fulfillment provider, with one shipping option;
// a publishable API key for the default sales channel; one published sample product with
// stock; and the admin user MEDUSA_ADMIN_EMAIL with MEDUSA_ADMIN_PASSWORD. Its last act
// writes `{"publishable_key": "pk_..."}` to the container's termination message
// ($TERMINATION_LOG, /dev/termination-log by default), where storeplane reads it.
//
// Run as `medusa exec ./src/scripts/bootstrap.js` after `medusa db:migrate`.
import { writeFileSync } from "node:fs"

import type { ExecArgs } from "@medusajs/framework/types"
import {
  ContainerRegistrationKeys,
  FeatureFlag,
  Modules,
  ProductStatus,
} from "@medusajs/framework/utils"
import {
  createApiKeysWorkflow,
  createDefaultsWorkflow,
  createInventoryLevelsWorkflow,
  createProductsWorkflow,
  createRegionsWorkflow,
  createShippingOptionsWorkflow,
  createShippingProfilesWorkflow,
  createStockLocationsWorkflow,
  createTaxRegionsWorkflow,
  createUsersWorkflow,
  linkSalesChannelsToApiKeyWorkflow,
  linkSalesChannelsToStockLocationWorkflow,
  updateStoresWorkflow,
} from "@medusajs/medusa/core-flows"

const CURRENCY = process.env.MEDUSA_CURRENCY || "usd"
const COUNTRIES = (process.env.MEDUSA_COUNTRIES || "us")
  .split(",")
  .map((country) => country.trim().toLowerCase())
  .filter(Boolean)
const SYSTEM_PAYMENT_PROVIDER = "pp_system_default"
const MANUAL_FULFILLMENT_PROVIDER = "manual_manual"

type Made = string[]

function required(name: string): string {
  const value = process.env[name]
  if (!value) {
    throw new Error(`${name} is not set`)
  }
  return value
}

export default async function bootstrap({ container }: ExecArgs) {
  const logger = container.resolve(ContainerRegistrationKeys.LOGGER)
  const link = container.resolve(ContainerRegistrationKeys.LINK)
  const query = container.resolve(ContainerRegistrationKeys.QUERY)
  const storeModule = container.resolve(Modules.STORE)
  const regionModule = container.resolve(Modules.REGION)
  const taxModule = container.resolve(Modules.TAX)
  const salesChannelModule = container.resolve(Modules.SALES_CHANNEL)
  const stockLocationModule = container.resolve(Modules.STOCK_LOCATION)
  const fulfillmentModule = container.resolve(Modules.FULFILLMENT)
  const apiKeyModule = container.resolve(Modules.API_KEY)
  const productModule = container.resolve(Modules.PRODUCT)
  const userModule = container.resolve(Modules.USER)
  const authModule = container.resolve(Modules.AUTH)

  const storeName = process.env.MEDUSA_STORE_NAME || "Medusa Store"
  const adminEmail = required("MEDUSA_ADMIN_EMAIL")
  const adminPassword = required("MEDUSA_ADMIN_PASSWORD")
  const made: Made = []

  // The store and its default sales channel: Medusa makes both (if absent) on its first
  // start; made here too, so that a bootstrap before any start finds them.
  await createDefaultsWorkflow(container).run()
  const [store] = await storeModule.listStores({}, { relations: ["supported_currencies"] })
  if (!store) {
    throw new Error("Medusa made no store")
  }
  let salesChannelId = store.default_sales_channel_id
  if (!salesChannelId) {
    const [channel] = await salesChannelModule.listSalesChannels({}, { take: 1 })
    salesChannelId = channel?.id
  }
  if (!salesChannelId) {
    throw new Error("the store has no sales channel")
  }

  // Region, paid by hand, and its tax region.
  let [region] = await regionModule.listRegions({}, { take: 1, order: { created_at: "ASC" } })
  if (!region) {
    const { result } = await createRegionsWorkflow(container).run({
      input: {
        regions: [
          {
            name: "Default",
            currency_code: CURRENCY,
            countries: COUNTRIES,
            payment_providers: [SYSTEM_PAYMENT_PROVIDER],
          },
        ],
      },
    })
    region = result[0]
    made.push(`region ${region.name}`)
  }
  const regionCountries = (
    await regionModule.retrieveRegion(region.id, { relations: ["countries"] })
  ).countries.map((country) => country.iso_2)
  const taxRegions = await taxModule.listTaxRegions({ country_code: regionCountries })
  const untaxed = regionCountries.filter(
    (country) => !taxRegions.some((tax) => tax.country_code === country && !tax.parent_id)
  )
  if (untaxed.length > 0) {
    await createTaxRegionsWorkflow(container).run({
      input: untaxed.map((country_code) => ({ country_code, provider_id: "tp_system" })),
    })
    made.push(`tax regions ${untaxed.join(", ")}`)
  }

  // The store: its name, currency, region and sales channel, set only while unset.
  const update: Record<string, unknown> = {}
  if (store.name !== storeName && store.name === "Medusa Store") {
    update.name = storeName
  }
  if ((store.supported_currencies ?? []).length === 0) {
    update.supported_currencies = [{ currency_code: region.currency_code, is_default: true }]
  }
  if (!store.default_region_id) {
    update.default_region_id = region.id
  }
  if (!store.default_sales_channel_id) {
    update.default_sales_channel_id = salesChannelId
  }
  if (Object.keys(update).length > 0) {
    await updateStoresWorkflow(container).run({
      input: { selector: { id: store.id }, update },
    })
    made.push(`store settings ${Object.keys(update).join(", ")}`)
  }

  // Where stock is kept and shipped from.
  let [location] = await stockLocationModule.listStockLocations(
    {},
    { take: 1, order: { created_at: "ASC" } }
  )
  if (!location) {
    const { result } = await createStockLocationsWorkflow(container).run({
      input: { locations: [{ name: "Warehouse" }] },
    })
    location = result[0]
    made.push(`stock location ${location.name}`)
  }
  if (!store.default_location_id) {
    await updateStoresWorkflow(container).run({
      input: { selector: { id: store.id }, update: { default_location_id: location.id } },
    })
  }
  const {
    data: [locationLinks],
  } = await query.graph({
    entity: "stock_location",
    fields: ["id", "sales_channels.id", "fulfillment_providers.id", "fulfillment_sets.id"],
    filters: { id: location.id },
  })
  if (!(locationLinks?.sales_channels ?? []).some((channel) => channel?.id === salesChannelId)) {
    await linkSalesChannelsToStockLocationWorkflow(container).run({
      input: { id: location.id, add: [salesChannelId] },
    })
    made.push("stock location's sales channel")
  }
  if (
    !(locationLinks?.fulfillment_providers ?? []).some(
      (provider) => provider?.id === MANUAL_FULFILLMENT_PROVIDER
    )
  ) {
    await link.create({
      [Modules.STOCK_LOCATION]: { stock_location_id: location.id },
      [Modules.FULFILLMENT]: { fulfillment_provider_id: MANUAL_FULFILLMENT_PROVIDER },
    })
    made.push("stock location's fulfillment provider")
  }

  // Shipping: a profile, a fulfillment set with a zone for the region's countries, one
  // flat-rate option.
  let [profile] = await fulfillmentModule.listShippingProfiles({ type: "default" }, { take: 1 })
  if (!profile) {
    const { result } = await createShippingProfilesWorkflow(container).run({
      input: { data: [{ name: "Default Shipping Profile", type: "default" }] },
    })
    profile = result[0]
    made.push("shipping profile")
  }
  const setIds = (locationLinks?.fulfillment_sets ?? [])
    .map((set) => set?.id)
    .filter((id): id is string => Boolean(id))
  let [fulfillmentSet] =
    setIds.length > 0
      ? await fulfillmentModule.listFulfillmentSets(
          { id: setIds, type: "shipping" },
          { relations: ["service_zones"] }
        )
      : []
  if (!fulfillmentSet) {
    fulfillmentSet = await fulfillmentModule.createFulfillmentSets({
      name: `${location.name} delivery`,
      type: "shipping",
      service_zones: [
        {
          name: region.name,
          geo_zones: regionCountries.map((country_code) => ({
            country_code,
            type: "country" as const,
          })),
        },
      ],
    })
    await link.create({
      [Modules.STOCK_LOCATION]: { stock_location_id: location.id },
      [Modules.FULFILLMENT]: { fulfillment_set_id: fulfillmentSet.id },
    })
    fulfillmentSet = await fulfillmentModule.retrieveFulfillmentSet(fulfillmentSet.id, {
      relations: ["service_zones"],
    })
    made.push("fulfillment set")
  }
  const zone = fulfillmentSet.service_zones[0]
  if (!zone) {
    throw new Error(`fulfillment set ${fulfillmentSet.name} has no service zone`)
  }
  const options = await fulfillmentModule.listShippingOptions(
    { service_zone: { id: zone.id } },
    { take: 1 }
  )
  if (options.length === 0) {
    await createShippingOptionsWorkflow(container).run({
      input: [
        {
          name: "Standard Shipping",
          price_type: "flat",
          provider_id: MANUAL_FULFILLMENT_PROVIDER,
          service_zone_id: zone.id,
          shipping_profile_id: profile.id,
          type: { label: "Standard", description: "Ships in 2-3 days.", code: "standard" },
          prices: [
            { currency_code: region.currency_code, amount: 10 },
            { region_id: region.id, amount: 10 },
          ],
          rules: [
            { attribute: "enabled_in_store", value: "true", operator: "eq" },
            { attribute: "is_return", value: "false", operator: "eq" },
          ],
        },
      ],
    })
    made.push("shipping option")
  }

  // The publishable key every Store API request carries.
  let key = (
    await apiKeyModule.listApiKeys({ type: "publishable" }, { order: { created_at: "ASC" } })
  ).find((candidate) => !candidate.revoked_at)
  if (!key) {
    const { result } = await createApiKeysWorkflow(container).run({
      input: { api_keys: [{ title: "Storefront", type: "publishable", created_by: "" }] },
    })
    key = result[0]
    made.push("publishable key")
  }
  const {
    data: [keyLinks],
  } = await query.graph({
    entity: "api_key",
    fields: ["id", "sales_channels.id"],
    filters: { id: key.id },
  })
  if (!(keyLinks?.sales_channels ?? []).some((channel) => channel?.id === salesChannelId)) {
    await linkSalesChannelsToApiKeyWorkflow(container).run({
      input: { id: key.id, add: [salesChannelId] },
    })
    made.push("publishable key's sales channel")
  }

  // One product to sell, in stock at the location.
  const [anyProduct] = await productModule.listProducts({}, { take: 1 })
  if (!anyProduct) {
    const { result } = await createProductsWorkflow(container).run({
      input: {
        products: [
          {
            title: "Sample T-shirt",
            handle: "sample-t-shirt",
            description: "A product to try the shop with; edit or delete it in the admin.",
            status: ProductStatus.PUBLISHED,
            shipping_profile_id: profile.id,
            options: [{ title: "Size", values: ["M"] }],
            variants: [
              {
                title: "M",
                sku: "SAMPLE-TSHIRT-M",
                options: { Size: "M" },
                manage_inventory: true,
                prices: [{ currency_code: region.currency_code, amount: 20 }],
              },
            ],
            sales_channels: [{ id: salesChannelId }],
          },
        ],
      },
    })
    const {
      data: [created],
    } = await query.graph({
      entity: "product",
      fields: ["variants.inventory_items.inventory_item_id"],
      filters: { id: result[0].id },
    })
    const items = (created?.variants ?? []).flatMap((variant) =>
      (variant?.inventory_items ?? []).map((item) => item?.inventory_item_id)
    )
    await createInventoryLevelsWorkflow(container).run({
      input: {
        inventory_levels: items
          .filter((id): id is string => Boolean(id))
          .map((inventory_item_id) => ({
            inventory_item_id,
            location_id: location.id,
            stocked_quantity: 100,
          })),
      },
    })
    made.push("sample product")
  }

  // The admin: a user, an email-and-password identity, and the link between them; each
  // made only if absent, so that a run cut short between them is finished by the next.
  let [user] = await userModule.listUsers({ email: adminEmail }, { take: 1 })
  if (!user) {
    const roles: string[] = []
    if (FeatureFlag.isFeatureEnabled("rbac")) {
      const rbac = container.resolve(Modules.RBAC)
      const superAdmins = await rbac.listRbacRoles({ id: "role_super_admin" })
      roles.push(...superAdmins.map((role) => role.id))
    }
    const { result } = await createUsersWorkflow(container).run({
      input: { users: [{ email: adminEmail, ...(roles.length > 0 ? { roles } : {}) }] },
    })
    user = result[0]
    made.push("admin user")
  }
  const [identity] = await authModule.listProviderIdentities(
    { entity_id: adminEmail, provider: "emailpass" },
    { relations: ["auth_identity"] }
  )
  let authIdentity = identity?.auth_identity
  if (!authIdentity) {
    const { authIdentity: registered, error } = await authModule.register("emailpass", {
      body: { email: adminEmail, password: adminPassword },
    })
    if (error || !registered) {
      throw new Error(`could not register the admin's login: ${error}`)
    }
    authIdentity = registered
    made.push("admin login")
  }
  if (authIdentity.app_metadata?.user_id !== user.id) {
    await authModule.updateAuthIdentities({
      id: authIdentity.id,
      app_metadata: { ...(authIdentity.app_metadata ?? {}), user_id: user.id },
    })
    made.push("admin login's user")
  }

  logger.info(made.length > 0 ? `bootstrap made: ${made.join("; ")}` : "bootstrap: nothing to do")

  // The publishable key is public (every storefront request carries it); the termination
  // message is how it reaches storeplane without the Job holding Kubernetes credentials.
  const terminationLog = process.env.TERMINATION_LOG || "/dev/termination-log"
  writeFileSync(terminationLog, JSON.stringify({ publishable_key: key.token }))
}

// Sets the password of the admin MEDUSA_ADMIN_EMAIL to MEDUSA_ADMIN_PASSWORD through
// Medusa's auth module (which hashes it), for storeplane's password reset. Both come from
// the environment, never from arguments, and neither is printed. Running it twice sets the
// same password twice.
//
// Run as `medusa exec ./src/scripts/reset-admin-password.js`.
import type { ExecArgs } from "@medusajs/framework/types"
import { ContainerRegistrationKeys, Modules } from "@medusajs/framework/utils"

export default async function resetAdminPassword({ container }: ExecArgs) {
  const logger = container.resolve(ContainerRegistrationKeys.LOGGER)
  const authModule = container.resolve(Modules.AUTH)
  const email = process.env.MEDUSA_ADMIN_EMAIL
  const password = process.env.MEDUSA_ADMIN_PASSWORD
  if (!email || !password) {
    throw new Error("MEDUSA_ADMIN_EMAIL and MEDUSA_ADMIN_PASSWORD must be set")
  }
  const [identity] = await authModule.listProviderIdentities({
    entity_id: email,
    provider: "emailpass",
  })
  if (!identity) {
    throw new Error("the store's admin has no email-and-password login; run the setup first")
  }
  const { success, error } = await authModule.updateProvider("emailpass", {
    entity_id: email,
    password,
  })
  if (!success) {
    throw new Error(`the admin's password was not changed: ${error}`)
  }
  logger.info("the admin's password was changed")
}

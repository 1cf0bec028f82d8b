// Logs each order placed, from whichever process handles the event: the worker, when the
// event bus is Redis and the server runs in server mode. That line is how the store's logs
// (and scripts/test-medusa-app.sh) see that events reach the worker.
import type { SubscriberArgs, SubscriberConfig } from "@medusajs/framework"
import { ContainerRegistrationKeys } from "@medusajs/framework/utils"

export default async function orderPlaced({ event, container }: SubscriberArgs<{ id: string }>) {
  container.resolve(ContainerRegistrationKeys.LOGGER).info(`order placed: ${event.data.id}`)
}

export const config: SubscriberConfig = {
  event: "order.placed",
}

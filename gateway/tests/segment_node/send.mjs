// Sends Segment-spec calls with the real @segment/analytics-node client to the gateway at
// GATEWAY_URL with WRITE_KEY; prints the HTTP statuses the client saw, as JSON.
import { Analytics } from '@segment/analytics-node'

const { GATEWAY_URL, WRITE_KEY, RUN_ID } = process.env
const analytics = new Analytics({ writeKey: WRITE_KEY, host: GATEWAY_URL, flushAt: 10, maxRetries: 0 })
const statuses = []
analytics.on('http_response', (response) => statuses.push(response.status))
analytics.on('error', (error) => statuses.push(`error: ${error.reason ?? error.code ?? error}`))

analytics.track({
  userId: `node-${RUN_ID}`,
  event: 'Order Completed',
  messageId: `node-order-${RUN_ID}`,
  properties: { order_id: `order-${RUN_ID}`, total: 42.5, currency: 'EUR', products: [{ sku: 'sku-1', quantity: 2, price: 21.25 }] },
  context: { locale: 'fr-FR', timezone: 'Europe/Paris' },
})
analytics.page({
  anonymousId: `anon-${RUN_ID}`,
  name: 'Pricing',
  messageId: `node-page-${RUN_ID}`,
  properties: { url: 'https://shop.example.com/pricing', path: '/pricing' },
})
await analytics.closeAndFlush({ timeout: 20000 })
console.log(JSON.stringify({ statuses }))

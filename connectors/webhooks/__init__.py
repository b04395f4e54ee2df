"""Webhook channels: a marketplace pushes order events over HTTP, signed with a shared secret.

base.py         HMAC over the raw body (constant-time), refusals as HTTP statuses, freshness window,
                the reply after the archive commit, and the item meta the gateway reads
shopify.py      `shopify-webhook`: X-Shopify-* headers, orders/create taken, other topics held
woocommerce.py  `woocommerce-webhook`: X-WC-Webhook-* headers, the ping, order.created taken

Each module exposes its `SPEC`; the HTTP receiver is `partner_portal/routes/inbound.py`, the gateway
side (archive, delivery de-duplication, answer) `gateway/push.py`.
"""

"""Marketplaces polled over their REST APIs: Shopify, WooCommerce and Amazon SP-API orders in.

Each order becomes one item whose payload is the JSON document the `marketplace` format reads (the
bare order for Shopify and WooCommerce, getOrder + getOrderItems side by side for Amazon). The
position in the marketplace's order stream is a cursor (last updated time, and the orders already
taken at or near it); `confirm` after the archive commit advances it over the confirmed prefix of a
poll, so a crash before `confirm` re-offers the same orders and the archive's duplicate checks absorb
them.

settings.py          the three kinds' settings: URLs (https, http only to a loopback address), secret names
clock.py             time and sleeping, injectable, and the token bucket that paces requests
http.py              one httpx client: retries (tenacity) for 429/5xx/timeouts, errors → TransportErrors
jsondoc.py           JSON in with exact decimals, out byte-stable (a repeat is the same bytes)
cursor.py            the cursor, and where it is kept between runs (a StateStore)
feed.py              orders → items past the cursor; confirm → cursor advanced over the confirmed prefix
shopify_rest.py      GET /admin/api/{version}/orders.json, Link pagination, call-limit backoff
woocommerce_rest.py  GET /wp-json/wc/v3/orders, modified_after, X-WP-TotalPages
lwa.py               Login with Amazon access tokens: cached, refreshed before expiry and once on a 401/403
amazon_spapi.py      getOrders over a time window (NextToken) + getOrderItems per order, token buckets
"""

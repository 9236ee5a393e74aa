"""Kestrel Pay: a fifth payment gateway paycert does not ship, written from public API habits (issue 10).

OAuth2 client credentials, Stripe-like checkout sessions with no refunded status, a hosted page whose cancel
button sits in a form of its own, 3-D Secure, refunds as objects, and Standard Webhooks whose event id is only in
a header. See README.md beside this file; its contract is openapi.yaml.
"""

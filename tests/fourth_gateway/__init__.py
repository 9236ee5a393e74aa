"""Quetzal Pay: a fourth payment gateway paycert does not ship, described only as data (spec + profile).

It exists to keep the promise that "a gateway is data": tests/certification/test_fourth_gateway.py certifies it
with `paycert run` and nothing but tests/fourth_gateway/profile.yaml and openapi.yaml.
"""

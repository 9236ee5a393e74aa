"""Tests of paycert.pacts: the sandbox's provider states, verification, and the pact runs end to end."""

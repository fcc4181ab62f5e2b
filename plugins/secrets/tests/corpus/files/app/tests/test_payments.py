import pytest

# Stripe test-mode keys and the AWS documentation keys are public.
STRIPE_KEY = "sk_test_w3hhvOLhXh9TRPgtoYGXnev5"
STRIPE_RESTRICTED = "rk_test_RsM2uy7ce5vTjVgd8fQrJnW4"
AWS_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
AWS_SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
API_TOKEN = "test-only-token-not-a-secret"
PASSWORD = "correct horse battery staple"
FAKE_GITHUB_TOKEN = "ghp_NHoswP7poamuwQKndJk4U2YGXM2STQAAAAAA"
WEBHOOK_SECRET = "whsec_test_placeholder"

def test_charge(client):
    resp = client.post("/charge", json={"amount": 1200, "idempotency_key": "87189081-8ebb-860f-d5de-4810cefbf4ee"})
    assert resp.status_code == 201
    client.headers["X-Api-Key"] = api_key = "TJ7dZcGgWoeOlsuMAHGE9Hngi6Gezpq8"

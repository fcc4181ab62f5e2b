import requests

API = "https://billing.example.com"


def fetch_invoice(invoice_id):
    # ruleid: acme/requests-without-timeout
    resp = requests.get(f"{API}/invoices/{invoice_id}")
    return resp.json()


def create_invoice(payload):
    # ruleid: acme/requests-without-timeout
    return requests.post(
        API + "/invoices",
        json=payload,
        headers={"Accept": "application/json"},
    )


def delete_invoice(invoice_id):
    # ok: acme/requests-without-timeout
    return requests.delete(f"{API}/invoices/{invoice_id}", timeout=5)


def session():
    # ok: acme/requests-without-timeout
    return requests.Session()


def documented():
    """Never call requests.get(url) without a timeout."""
    # ok: acme/requests-without-timeout
    return requests.get(API, timeout=(3, 10))

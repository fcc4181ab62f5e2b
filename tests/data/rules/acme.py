import logging

logger = logging.getLogger(__name__)


def ship(order):
    # ruleid: acme/no-print-in-services
    print("shipping", order)
    # ok: acme/no-print-in-services
    logger.info("shipping %s", order)
    # ok: acme/no-print-in-services
    self.print(order)
    # ruleid: acme/no-internal-hostnames
    return "https://billing.corp.acme.example/orders"

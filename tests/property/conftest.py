"""Reports how many generated requests the property-based suite sent, per role."""


def pytest_terminal_summary(terminalreporter):
    from tests.property.test_api_properties import REQUESTS

    if REQUESTS:
        counts = ", ".join(f"{role}: {count}" for role, count in sorted(REQUESTS.items()))
        terminalreporter.write_line(f"property-based suite: generated requests per role: {counts}")

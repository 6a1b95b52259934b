"""Load tests: gunicorn on a free loopback port, several staff sessions at once."""


def pytest_configure(config):
    config.addinivalue_line("markers", "load: drives gunicorn with concurrent HTTP clients")


def pytest_terminal_summary(terminalreporter):
    """Print what each load test measured (requests per second), also under xdist."""
    lines = [value for report in terminalreporter.getreports("passed")
             + terminalreporter.getreports("failed")
             for name, value in report.user_properties if name == "load"]
    if lines:
        terminalreporter.section("load")
        for line in lines:
            terminalreporter.write_line(line)

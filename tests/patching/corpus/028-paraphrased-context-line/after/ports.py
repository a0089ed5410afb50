def parse_port(value):
    # Ports are integers between 1 and 65535.
    port = int(value, 10)
    if port < 1 or port > 65535:
        raise ValueError(f"bad port: {value}")
    return port

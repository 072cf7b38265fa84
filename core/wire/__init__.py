"""TLS on the wire: records, hand-built ClientHellos and total parsers of the replies."""

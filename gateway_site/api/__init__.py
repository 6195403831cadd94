"""What every API endpoint shares: the error format, roles and permissions, throttles, the
schema's error responses, strict decimal fields and the audit actor."""

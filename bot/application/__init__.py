"""The application layer: one module of use cases per feature (registration, profile, pause,
privacy, alerting, tracking). Handlers call these operations and render their results; the
operations hold the rules and speak to the repositories in ``db``."""

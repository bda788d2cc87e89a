"""copbot core: configuration, domain services, scheduling and the CLI.

Nothing in here imports slack_bolt: services talk to Slack through the small
port in ``bot.slack`` so the same code runs from a handler, a job or the sandbox.
"""

"""Provider entry point: registers the `amc` and `joor` connection types for the Airflow UI."""


def get_provider_info() -> dict:
    return {
        "package-name": "amc-joor",
        "name": "AMC-JOOR integration",
        "description": "ApparelMagic Cloud and JOOR connection types and hooks.",
        "versions": ["0.1.0"],
        "connection-types": [
            {"connection-type": "amc", "hook-class-name": "amc_joor.hooks.amc.AmcHook"},
            {"connection-type": "joor", "hook-class-name": "amc_joor.hooks.joor.JoorHook"},
        ],
    }

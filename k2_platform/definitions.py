"""The one Dagster Definitions object of K2."""
from dagster import Definitions

from .resources import resources_from_settings
from .settings import load_settings

defs = Definitions(
    assets=[],
    resources=resources_from_settings(load_settings()),
)

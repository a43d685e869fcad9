"""The fields of `voxhub.config.Settings`, one mixin per concern; `Settings` joins them in `voxhub.config`."""

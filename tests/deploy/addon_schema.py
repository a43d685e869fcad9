"""The Home Assistant Supervisor's rules for an add-on ("app") repository, re-stated to check ours offline.

The Supervisor is not on PyPI, so its validators cannot be imported here. These are its rules as written in
`home-assistant/supervisor` (read at commit 090ef31, August 2026), in the same library (voluptuous):

- `supervisor/apps/validate.py`: `_SCHEMA_APP_CONFIG` (config.yaml), `SCHEMA_ADDON_TRANSLATIONS`;
- `supervisor/apps/options.py`: `RE_SCHEMA_ELEMENT` and how `AppOptions` checks option values;
- `supervisor/store/validate.py`: `SCHEMA_REPOSITORY_CONFIG` (repository.yaml);
- `supervisor/validate.py`: ports and network ports; `supervisor/const.py`: architectures, roles, stages.

One difference on purpose: the Supervisor drops keys it does not know (`REMOVE_EXTRA`), so a misspelt key
would be ignored without a word; here an unknown key is an error.
"""

from __future__ import annotations

import re
from typing import Any

import voluptuous as vol

# supervisor/const.py: ARCH_ALL, then ARCH_DEPRECATED (still accepted, with a warning)
ARCHITECTURES = ("aarch64", "amd64")
DEPRECATED_ARCHITECTURES = ("armhf", "armv7", "i386")
SLUG = re.compile(r"^[-_.A-Za-z0-9]+$")
# One option's type in `schema`: str, int, float with optional (min,max), bool, email, url, password, port,
# device(filter), match(regex), list(a|b|c); a trailing `?` makes the option optional.
SCHEMA_ELEMENT = re.compile(
    r"^(?:"
    r"|bool|email|url|port"
    r"|device(?:\((?P<filter>subsystem=[a-z]+)\))?"
    r"|(?P<str>str|password)(?:\((?P<s_low>\d+)?,(?P<s_high>\d+)?\))?"
    r"|(?P<int>int)(?:\((?P<i_low>-?\d+)?,(?P<i_high>-?\d+)?\))?"
    r"|(?P<float>float)(?:\((?P<f_low>-?\d*\.?\d+)?,(?P<f_high>-?\d*\.?\d+)?\))?"
    r"|match\((?P<match>.*)\)"
    r"|list\((?P<choices>.+)\)"
    r")\??$"
)

port_number = vol.All(vol.Coerce(int), vol.Range(min=1, max=65535))
container_port = vol.All(str, vol.Match(r"^\d+(?:/tcp|/udp)?$"))
version = vol.Any(str, int, float)  # the Supervisor parses it with AwesomeVersion, which takes any of these


def _schema_element(value: Any) -> Any:
    """A `schema` entry: a type string, a list of one type (or of one dict), or a dict of entries."""
    if isinstance(value, str):
        return vol.Match(SCHEMA_ELEMENT)(value)
    if isinstance(value, list):
        if len(value) != 1 or isinstance(value[0], list):
            raise vol.Invalid("a list type holds exactly one type, and not another list")
        return [_schema_element(value[0])]
    if isinstance(value, dict):
        return {vol.Schema(str)(key): _schema_element(item) for key, item in value.items()}
    raise vol.Invalid(f"not an option type: {value!r}")


ADDON_CONFIG = vol.Schema(
    {
        vol.Required("name"): str,
        vol.Required("version"): version,
        vol.Required("slug"): vol.Match(SLUG),
        vol.Required("description"): str,
        vol.Required("arch"): [vol.In(ARCHITECTURES + DEPRECATED_ARCHITECTURES)],
        vol.Optional("machine"): [str],
        vol.Optional("url"): vol.Url(),
        vol.Optional("startup"): vol.In(("initialize", "system", "services", "application", "once")),
        vol.Optional("boot"): vol.In(("auto", "manual", "manual_only")),
        vol.Optional("init"): vol.Boolean(),
        vol.Optional("advanced"): vol.Boolean(),
        vol.Optional("stage"): vol.In(("stable", "experimental", "deprecated")),
        vol.Optional("ports"): {container_port: vol.Maybe(port_number)},
        vol.Optional("ports_description"): {container_port: str},
        vol.Optional("watchdog"): vol.Match(
            r"^(?:https?|\[PROTO:\w+\]|tcp)://\[HOST\]:(\[PORT:\d+\]|\d+).*$"
        ),
        vol.Optional("webui"): vol.Match(r"^(?:https?|\[PROTO:\w+\])://\[HOST\]:\[PORT:\d+\].*$"),
        vol.Optional("ingress"): vol.Boolean(),
        vol.Optional("ingress_port"): vol.Any(port_number, vol.Equal(0)),
        vol.Optional("ingress_entry"): str,
        vol.Optional("ingress_stream"): vol.Boolean(),
        vol.Optional("panel_icon"): str,
        vol.Optional("panel_title"): str,
        vol.Optional("panel_admin"): vol.Boolean(),
        vol.Optional("homeassistant"): version,
        **{
            vol.Optional(flag): vol.Boolean()
            for flag in (
                "host_network",
                "host_pid",
                "host_ipc",
                "host_uts",
                "host_dbus",
                "udev",
                "tmpfs",
                "apparmor",
                "full_access",
                "audio",
                "video",
                "gpio",
                "usb",
                "uart",
                "devicetree",
                "kernel_modules",
                "realtime",
                "hassio_api",
                "homeassistant_api",
                "stdin",
                "legacy",
                "docker_api",
                "auth_api",
                "journald",
            )
        },
        vol.Optional("devices"): [str],
        vol.Optional("map"): [
            vol.Any(
                vol.Match(
                    r"^(data|config|ssl|local_apps|addons|backup|share|media|homeassistant_config"
                    r"|all_app_configs|all_addon_configs|app_config|addon_config)(?::(rw|ro))?$"
                ),
                {vol.Required("type"): str, vol.Optional("read_only"): bool, vol.Optional("path"): str},
            )
        ],
        vol.Optional("environment"): {vol.Match(r"\w*"): str},
        vol.Optional("privileged"): [str],
        vol.Optional("hassio_role"): vol.In(("default", "homeassistant", "backup", "manager", "admin")),
        vol.Optional("services"): [vol.Match(r"^(mqtt|mysql):(provide|want|need)$")],
        vol.Optional("discovery"): [str],
        vol.Optional("backup_exclude"): [str],
        vol.Optional("backup_pre"): str,
        vol.Optional("backup_post"): str,
        vol.Optional("backup"): vol.In(("hot", "cold")),
        vol.Optional("options"): dict,
        vol.Optional("schema"): vol.Any(vol.Schema({str: _schema_element}), False),
        vol.Optional("image"): str,
        vol.Optional("ulimits"): {str: vol.Any(vol.Coerce(int), {"soft": int, "hard": int})},
        vol.Optional("timeout"): vol.All(vol.Coerce(int), vol.Range(min=10, max=300)),
        vol.Optional("breaking_versions"): [version],
    },
    extra=vol.PREVENT_EXTRA,
)

REPOSITORY_CONFIG = vol.Schema(
    {vol.Required("name"): str, vol.Optional("url"): vol.Url(), vol.Optional("maintainer"): str},
    extra=vol.PREVENT_EXTRA,
)

_TRANSLATED_OPTION = vol.Schema(
    {
        vol.Required("name"): str,
        vol.Optional("description"): vol.Maybe(str),
        vol.Optional("fields"): {str: vol.Self},
    },
    extra=vol.PREVENT_EXTRA,
)
ADDON_TRANSLATIONS = vol.Schema(
    {vol.Optional("configuration"): {str: _TRANSLATED_OPTION}, vol.Optional("network"): {str: str}},
    extra=vol.PREVENT_EXTRA,
)


def check_options(options: dict[str, Any], schema: dict[str, Any]) -> None:
    """Raise `vol.Invalid` unless `options` passes `schema`, as the Supervisor checks them on start."""
    for key, value in options.items():
        if key not in schema:
            raise vol.Invalid(f"option {key!r} is not in the schema")
        _check_value(schema[key], value, key)
    for key, kind in schema.items():  # the Supervisor's missing-option check: only `?` types may be left out
        if key not in options and not (isinstance(kind, str) and kind.endswith("?")):
            raise vol.Invalid(f"option {key!r} has no default and is not optional")


def _check_value(kind: Any, value: Any, key: str) -> None:
    if isinstance(kind, list):
        if not isinstance(value, list):
            raise vol.Invalid(f"option {key!r} must be a list")
        for item in value:
            _check_value(kind[0], item, key)
        return
    if isinstance(kind, dict):
        if not isinstance(value, dict):
            raise vol.Invalid(f"option {key!r} must be a mapping")
        check_options(value, kind)
        return
    if value is None:
        raise vol.Invalid(f"option {key!r} is required")
    found = SCHEMA_ELEMENT.match(kind)
    if found is None:
        raise vol.Invalid(f"option {key!r} has an unknown type {kind!r}")
    base = kind.rstrip("?")
    if found["str"]:
        vol.All(str, vol.Length(**_limits(found, "s")))(value)
    elif found["int"]:
        vol.All(vol.Coerce(int), vol.Range(**_limits(found, "i")))(value)
    elif found["float"]:
        vol.All(vol.Coerce(float), vol.Range(**_limits(found, "f")))(value)
    elif base == "bool":
        vol.Boolean()(value)
    elif base == "email":
        vol.Email()(value)
    elif base == "url":
        vol.Url()(value)
    elif base == "port":
        port_number(value)
    elif found["match"] is not None:
        vol.Match(found["match"])(str(value))
    elif found["choices"] is not None:
        vol.In(found["choices"].split("|"))(str(value))
    else:
        raise vol.Invalid(f"option {key!r}: devices cannot be checked off a Home Assistant machine")


def _limits(found: re.Match[str], prefix: str) -> dict[str, float]:
    bounds = (("min", found[f"{prefix}_low"]), ("max", found[f"{prefix}_high"]))
    return {name: float(bound) for name, bound in bounds if bound is not None}

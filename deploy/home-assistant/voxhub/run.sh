#!/usr/bin/with-contenv bashio
# shellcheck shell=bash
# ==============================================================================
# voxhub add-on: the options set in Home Assistant become voxhub's VOXHUB_*
# settings (docs/configuration.md), then `voxhub serve` runs in the foreground.
# ==============================================================================
set -o errexit -o nounset -o pipefail

# Options named exactly as the voxhub setting they set.
readonly SETTINGS=(
    log_level auth_token
    stt_model stt_language stt_threads
    tts_engine tts_voice tts_language
    llm_engine llm_threads system_prompt
    openai_base_url openai_api_key openai_llm_model
)
readonly WYOMING_PORT=10900
# The per-service ports, as listed in config.yaml: speech to text, text to speech, wake words.
readonly WYOMING_STT_PORT=10901 WYOMING_TTS_PORT=10902 WYOMING_WAKE_PORT=10903

for option in "${SETTINGS[@]}"; do
    if bashio::config.has_value "${option}"; then
        export "VOXHUB_${option^^}=$(bashio::config "${option}")"
    fi
done

# A list option: bashio prints one item a line; voxhub reads a comma-separated list (empty: none).
if bashio::config.exists 'wake_words'; then
    mapfile -t wake_words < <(bashio::config 'wake_words')
    VOXHUB_WAKE_WORDS="$(IFS=,; echo "${wake_words[*]}")"
    export VOXHUB_WAKE_WORDS
fi

# Fixed by the add-on: data in the add-on's /data, every address inside the container, and Wyoming open
# to Home Assistant's internal network (no host port unless the user maps one) even with auth_token set.
export VOXHUB_DATA_DIR=/data
export VOXHUB_HOST=0.0.0.0
export VOXHUB_PORT=8129
export VOXHUB_WYOMING_PORT="${WYOMING_PORT}"
export VOXHUB_WYOMING_ALLOW_REMOTE=true
export VOXHUB_LOG_FORMAT=text

if bashio::config.true 'wyoming_per_service_ports'; then
    export VOXHUB_WYOMING_STT_PORT="${WYOMING_STT_PORT}"
    export VOXHUB_WYOMING_TTS_PORT="${WYOMING_TTS_PORT}"
    export VOXHUB_WYOMING_WAKE_PORT="${WYOMING_WAKE_PORT}"
fi

# Device control and the offline agent talk to Home Assistant through the Supervisor's proxy.
if bashio::config.true 'control_home_assistant'; then
    if [[ -n "${SUPERVISOR_TOKEN:-}" ]]; then
        export VOXHUB_HOMEASSISTANT_URL=http://supervisor/core
        export VOXHUB_HOMEASSISTANT_TOKEN="${SUPERVISOR_TOKEN}"
    else
        bashio::log.warning "No Supervisor token: voxhub will not control Home Assistant's devices."
    fi
fi

# Offer the Wyoming server to Home Assistant once it listens (the integration then shows up by itself).
announce_wyoming() {
    local server_pid=$1 tries=0
    until (echo >"/dev/tcp/127.0.0.1/${WYOMING_PORT}") 2>/dev/null; do
        tries=$((tries + 1))
        if ! kill -0 "${server_pid}" 2>/dev/null || ((tries > 1200)); then
            return 0  # voxhub stopped, or never listened in 10 minutes: its log says why
        fi
        sleep 0.5
    done
    if bashio::discovery wyoming "$(bashio::var.json uri "tcp://$(hostname):${WYOMING_PORT}")" >/dev/null; then
        bashio::log.info "Offered voxhub's Wyoming server to Home Assistant."
    else
        bashio::log.warning "Could not offer the Wyoming server to Home Assistant; add it by hand."
    fi
}
announce_wyoming "$$" &

bashio::log.info "Starting voxhub (web client in the sidebar; Wyoming on port ${WYOMING_PORT})."
exec voxhub serve

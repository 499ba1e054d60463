# shellcheck shell=bash
# Sourced by every bin/ command and make target: the project's local Airflow environment.
# Everything lives inside the repo: .venv, airflow_home/ (git-ignored), var/ (state, staging).
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export AMC_JOOR_ROOT="$ROOT"
export AIRFLOW_HOME="${AIRFLOW_HOME:-$ROOT/airflow_home}"
export PATH="$ROOT/.venv/bin:$PATH"

export AIRFLOW__CORE__DAGS_FOLDER="$ROOT/dags"
export AIRFLOW__CORE__PLUGINS_FOLDER="$ROOT/plugins"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW__CORE__EXECUTOR="${AIRFLOW__CORE__EXECUTOR:-LocalExecutor}"
export AIRFLOW__CORE__PARALLELISM="${AIRFLOW__CORE__PARALLELISM:-4}"
export AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG="${AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG:-4}"
export AIRFLOW__CORE__TEST_CONNECTION=Enabled
export AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="${AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION:-True}"
export AIRFLOW__SCHEDULER__STANDALONE_DAG_PROCESSOR=True
export AIRFLOW__API__HOST="${AIRFLOW__API__HOST:-127.0.0.1}"
export AIRFLOW__API__PORT="${AIRFLOW__API__PORT:-8080}"
export PYTHONWARNINGS="${PYTHONWARNINGS:-ignore}"

# Sandbox APIs at their default loopback ports (bin/sandbox serves them).
export AMC_JOOR_SANDBOX_AMC_PORT="${AMC_JOOR_SANDBOX_AMC_PORT:-8781}"
export AMC_JOOR_SANDBOX_JOOR_PORT="${AMC_JOOR_SANDBOX_JOOR_PORT:-8782}"

# The integration's own state store and staging root (never Airflow's metadata DB).
mkdir -p "$ROOT/var"
export AMC_JOOR_STATE_URL="${AMC_JOOR_STATE_URL:-sqlite:///$ROOT/var/amc_joor_state.db}"
export AMC_JOOR_STAGING_ROOT="${AMC_JOOR_STAGING_ROOT:-file://$ROOT/var/staging}"

# A 64-byte JWT secret generated once per checkout (shared by all components).
if [ -z "${AIRFLOW__API_AUTH__JWT_SECRET:-}" ]; then
  mkdir -p "$AIRFLOW_HOME"
  if [ ! -s "$AIRFLOW_HOME/.jwt_secret" ]; then
    (umask 077; python3 -c 'import secrets; print(secrets.token_urlsafe(64))' > "$AIRFLOW_HOME/.jwt_secret")
  fi
  AIRFLOW__API_AUTH__JWT_SECRET="$(cat "$AIRFLOW_HOME/.jwt_secret")"
  export AIRFLOW__API_AUTH__JWT_SECRET
fi

# Local connections and settings pointing at the sandboxes, unless the caller set their own.
if [ -z "${AIRFLOW_CONN_AMC_DEFAULT:-}" ] || [ -z "${AIRFLOW_CONN_JOOR_DEFAULT:-}" ]; then
  eval "$(python3 "$ROOT/bin/_local_env.py" "$AMC_JOOR_SANDBOX_AMC_PORT" "$AMC_JOOR_SANDBOX_JOOR_PORT")"
fi

"""Checks of the operator files under ``deploy/``: each parses, and they fit together.

Neither Docker nor promtool runs here, so the Dockerfile is read as text, PromQL is
scanned for metric names with a small tokenizer, and Kubernetes and compose files are
checked as data.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
K8S = DEPLOY / "k8s"
SERVICE_PORT = 8000

COMPOSE_SERVICES = ("alphintra", "postgres", "redis", "kafka", "prometheus", "grafana")
BACKING_SERVICES = ("postgres", "redis", "kafka")
# Environment variables the service reads; unknown ALPHINTRA_ keys make it refuse to start.
SERVICE_ENV = frozenset(
    {
        "DATABASE_URL",
        "REDIS_URL",
        "KAFKA_BOOTSTRAP_SERVERS",
        "ALPHINTRA_MASTER_KEY_FILE",
        "ALPHINTRA_JWT_SECRET",
    }
)

# Metric names as PromQL sees them. Histograms also expose _bucket, _sum and _count.
COUNTERS_AND_GAUGES = frozenset(
    {
        "up",
        "trading_signals_processed_total",
        "trading_orders_placed_total",
        "trading_orders_rejected_total",
        "trading_positions_active",
        "trading_pnl_total",
        "alphintra_database_up",
        "alphintra_venue_up",
    }
)
HISTOGRAMS = frozenset({"trading_order_execution_time_seconds", "trading_execution_slippage"})
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")
ALERT_METRICS = (
    "up",
    "trading_orders_rejected_total",
    "trading_orders_placed_total",
    "trading_order_execution_time_seconds",
    "alphintra_database_up",
    "alphintra_venue_up",
)
DASHBOARD_METRICS = (
    "trading_signals_processed_total",
    "trading_orders_placed_total",
    "trading_orders_rejected_total",
    "trading_order_execution_time_seconds",
    "trading_positions_active",
    "trading_execution_slippage",
    "trading_pnl_total",
    "alphintra_database_up",
    "alphintra_venue_up",
)

YAML_FILES = sorted([*DEPLOY.rglob("*.yml"), *DEPLOY.rglob("*.yaml")])
JSON_FILES = sorted(DEPLOY.rglob("*.json"))


# --- helpers -------------------------------------------------------------------------------


def _rel(path: Path) -> str:
    return str(path.relative_to(DEPLOY))


def _load_yaml(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(document, dict), f"{_rel(path)}: expected a mapping, got {document!r}"
    return cast(dict[str, Any], document)


def _load_json(path: Path) -> dict[str, Any]:
    document = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(document, dict), f"{_rel(path)}: expected an object, got {document!r}"
    return cast(dict[str, Any], document)


def _k8s(name: str) -> dict[str, Any]:
    return _load_yaml(K8S / name)


def _pod_spec() -> dict[str, Any]:
    return cast(dict[str, Any], _k8s("deployment.yaml")["spec"]["template"]["spec"])


def _container() -> dict[str, Any]:
    containers = cast(list[dict[str, Any]], _pod_spec()["containers"])
    assert len(containers) == 1, f"expected one container, got {len(containers)}"
    return containers[0]


def _container_port(port: int | str) -> int:
    """Resolve a probe or Service port, by number or by name, to the container port."""
    if isinstance(port, int):
        return port
    ports = cast(list[dict[str, Any]], _container()["ports"])
    return int(next(entry["containerPort"] for entry in ports if entry["name"] == port))


def _compose() -> dict[str, Any]:
    return _load_yaml(DEPLOY / "docker-compose.yml")


def _compose_service(name: str) -> dict[str, Any]:
    return cast(dict[str, Any], _compose()["services"][name])


def _compose_environment(name: str) -> dict[str, str]:
    environment = _compose_service(name).get("environment", {})
    if isinstance(environment, list):
        pairs = (cast(str, item).partition("=") for item in environment)
        return {key: value for key, _, value in pairs}
    return {str(key): str(value) for key, value in cast(dict[str, Any], environment).items()}


def _bind_mounts(service: str) -> dict[str, str]:
    """Map each ``./host`` bind-mount of a compose service to its container path."""
    mounts: dict[str, str] = {}
    for volume in cast(list[str], _compose_service(service).get("volumes", [])):
        source, target = volume.split(":")[:2]
        if source.startswith("."):
            mounts[source] = target
    return mounts


_PROMQL_STRING = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|`[^`]*`")
_PROMQL_MATCHERS = re.compile(r"\{[^}]*\}")
_PROMQL_RANGE = re.compile(r"\[[^\]]*\]")
_PROMQL_GROUPING = re.compile(
    r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", re.IGNORECASE
)
_GRAFANA_VARIABLE = re.compile(r"\$\{?\w+\}?")
_PROMQL_IDENTIFIER = re.compile(r"(?<![\w.])[A-Za-z_:][\w:]*")
_PROMQL_KEYWORDS = frozenset(
    {"and", "or", "unless", "bool", "offset", "atan2", "inf", "nan", "start", "end"}
)


def _promql_metrics(expr: str) -> set[str]:
    """Return the metric names a PromQL expression selects (not functions or labels)."""
    text = _PROMQL_STRING.sub(" ", expr)
    text = _PROMQL_MATCHERS.sub(" ", text)
    text = _PROMQL_RANGE.sub(" ", text)
    text = _PROMQL_GROUPING.sub(" ", text)
    text = _GRAFANA_VARIABLE.sub(" ", text)
    names: set[str] = set()
    for match in _PROMQL_IDENTIFIER.finditer(text):
        name = match.group()
        is_call = text[match.end() :].lstrip().startswith("(")
        if not is_call and name.lower() not in _PROMQL_KEYWORDS:
            names.add(name)
    return names


def _base_metric(name: str) -> str | None:
    """Return the documented metric ``name`` belongs to, or None when it is unknown."""
    if name in COUNTERS_AND_GAUGES or name in HISTOGRAMS:
        return name
    for suffix in HISTOGRAM_SUFFIXES:
        if name.endswith(suffix) and name.removesuffix(suffix) in HISTOGRAMS:
            return name.removesuffix(suffix)
    return None


def _alert_rules() -> list[dict[str, Any]]:
    groups = cast(list[dict[str, Any]], _load_yaml(DEPLOY / "prometheus" / "alerts.yml")["groups"])
    return [rule for group in groups for rule in cast(list[dict[str, Any]], group["rules"])]


def _alert(metric: str) -> dict[str, Any]:
    matching = [rule for rule in _alert_rules() if metric in _promql_metrics(str(rule["expr"]))]
    assert len(matching) == 1, f"expected one alert on {metric}, got {len(matching)}"
    return matching[0]


def _dashboard() -> dict[str, Any]:
    return _load_json(DEPLOY / "grafana" / "dashboards" / "alphintra.json")


def _panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in panels:
        yield panel
        yield from _panels(cast(list[dict[str, Any]], panel.get("panels", [])))


def _panel_exprs(panel: dict[str, Any]) -> list[str]:
    targets = cast(list[dict[str, Any]], panel.get("targets", []))
    return [str(target["expr"]) for target in targets if "expr" in target]


def _dockerfile_instructions() -> list[tuple[str, str]]:
    """Return the Dockerfile's (INSTRUCTION, arguments) pairs, continuations joined."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in (DEPLOY / "Dockerfile").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, arguments = (pending + line).partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        pending = ""
    assert not pending, f"Dockerfile ends inside a continued line: {pending!r}"
    return instructions


def _final_stage() -> list[tuple[str, str]]:
    instructions = _dockerfile_instructions()
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return instructions[last_from:]


def _exec_form(arguments: str) -> list[str]:
    parsed = json.loads(arguments)
    assert isinstance(parsed, list), f"expected exec form (a JSON list), got {arguments!r}"
    return [str(item) for item in parsed]


# --- every file parses ---------------------------------------------------------------------


def test_deploy_folder_yaml_files_found() -> None:
    names = {_rel(path) for path in YAML_FILES}
    assert {"docker-compose.yml", "prometheus/alerts.yml", "k8s/deployment.yaml"} <= names


@pytest.mark.parametrize("path", YAML_FILES, ids=_rel)
def test_yaml_file_every_document_parses(path: Path) -> None:
    documents = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
    assert documents, f"{_rel(path)} holds no YAML document"
    for document in documents:
        assert isinstance(document, dict), f"{_rel(path)}: expected a mapping, got {document!r}"


@pytest.mark.parametrize("path", JSON_FILES, ids=_rel)
def test_json_file_parses_to_object(path: Path) -> None:
    _load_json(path)


# --- Dockerfile ----------------------------------------------------------------------------


def test_dockerfile_stages_use_python_311_slim() -> None:
    instructions = _dockerfile_instructions()
    args = dict(
        arguments.partition("=")[::2] for keyword, arguments in instructions if keyword == "ARG"
    )
    bases = [arguments.split()[0] for keyword, arguments in instructions if keyword == "FROM"]
    assert len(bases) >= 2, f"expected a multi-stage build, got FROM {bases}"
    for base in bases:
        resolved = re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), m.group(0)), base)
        assert resolved == "python:3.11-slim", f"expected python:3.11-slim, got {resolved!r}"


def test_dockerfile_final_stage_user_not_root() -> None:
    users = [arguments for keyword, arguments in _final_stage() if keyword == "USER"]
    assert users, "the final stage sets no USER, so the container would run as root"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}, f"expected a non-root USER, got {users[-1]!r}"


def test_dockerfile_final_stage_exposes_service_port() -> None:
    exposed = [arguments.split() for keyword, arguments in _final_stage() if keyword == "EXPOSE"]
    assert [f"{SERVICE_PORT}"] in exposed or [f"{SERVICE_PORT}/tcp"] in exposed, exposed


def test_dockerfile_healthcheck_probes_healthz_without_curl() -> None:
    checks = [arguments for keyword, arguments in _final_stage() if keyword == "HEALTHCHECK"]
    assert len(checks) == 1, f"expected one HEALTHCHECK, got {checks}"
    command = _exec_form(checks[0].partition("CMD")[2].strip())
    assert command[:2] == ["python", "-c"], f"expected python -c, got {command}"
    assert f"127.0.0.1:{SERVICE_PORT}/healthz" in command[2]
    assert "urllib" in command[2]


def test_dockerfile_cmd_serves_on_all_interfaces() -> None:
    commands = [arguments for keyword, arguments in _final_stage() if keyword == "CMD"]
    expected = ["alphintra", "serve", "--host", "0.0.0.0", "--port", str(SERVICE_PORT)]
    assert commands, "the final stage has no CMD"
    assert _exec_form(commands[-1]) == expected


def test_dockerfile_requirements_installed_before_package() -> None:
    runs = [arguments for keyword, arguments in _dockerfile_instructions() if keyword == "RUN"]
    requirements = next(i for i, run in enumerate(runs) if "-r requirements.txt" in run)
    package = next(
        i for i, run in enumerate(runs) if re.search(r"pip install (\S+ )*\.(\s|$)", run)
    )
    assert requirements < package


def test_dockerignore_beside_dockerfile_allows_only_build_inputs() -> None:
    # BuildKit reads <Dockerfile>.dockerignore beside the Dockerfile in place of the
    # context root's .dockerignore; the context is the repository root.
    lines = (DEPLOY / "Dockerfile.dockerignore").read_text(encoding="utf-8").splitlines()
    rules = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    assert rules[0] == "*", f"expected an allow-list starting with '*', got {rules[0]!r}"
    copied = {"requirements.txt", "pyproject.toml", "README.md", "src/"}
    assert copied <= {rule.removeprefix("!") for rule in rules if rule.startswith("!")}


# --- docker-compose.yml --------------------------------------------------------------------


def test_compose_services_all_present() -> None:
    services = set(cast(dict[str, Any], _compose()["services"]))
    assert set(COMPOSE_SERVICES) <= services, f"missing {set(COMPOSE_SERVICES) - services}"


@pytest.mark.parametrize("backing", BACKING_SERVICES)
def test_compose_alphintra_depends_on_backing_service_healthy(backing: str) -> None:
    depends_on = cast(dict[str, Any], _compose_service("alphintra")["depends_on"])
    assert depends_on[backing] == {"condition": "service_healthy"}
    assert "test" in _compose_service(backing)["healthcheck"], f"{backing} has no healthcheck"


def test_compose_alphintra_builds_from_deploy_dockerfile() -> None:
    build = cast(dict[str, str], _compose_service("alphintra")["build"])
    context = (DEPLOY / build["context"]).resolve()
    assert (context / build["dockerfile"]).resolve() == DEPLOY / "Dockerfile"


def test_compose_alphintra_environment_sets_every_service_variable() -> None:
    environment = _compose_environment("alphintra")
    assert set(environment) == SERVICE_ENV
    assert environment["DATABASE_URL"].startswith("postgresql://")
    assert "@postgres:5432/" in environment["DATABASE_URL"]
    assert environment["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
    assert environment["REDIS_URL"].startswith("redis://redis:6379")


def test_compose_master_key_file_is_mounted_secret() -> None:
    path = _compose_environment("alphintra")["ALPHINTRA_MASTER_KEY_FILE"]
    secrets = cast(list[str], _compose_service("alphintra")["secrets"])
    assert path in {f"/run/secrets/{name}" for name in secrets}
    assert set(secrets) <= set(cast(dict[str, Any], _compose()["secrets"]))


def test_compose_secrets_not_given_defaults() -> None:
    text = (DEPLOY / "docker-compose.yml").read_text(encoding="utf-8")
    for variable in ("POSTGRES_PASSWORD", "ALPHINTRA_JWT_SECRET", "GRAFANA_ADMIN_PASSWORD"):
        uses = re.findall(r"\$\{" + variable + r"(:?[-?])?", text)
        assert uses, f"{variable} is not used"
        assert all(use in {":?", "?"} for use in uses), f"{variable} has a default: {uses}"


def test_compose_postgres_image_version_at_least_16() -> None:
    image = str(_compose_service("postgres")["image"])
    match = re.fullmatch(r"postgres:(\d+)[\w.-]*", image)
    assert match, f"expected postgres:<major>..., got {image!r}"
    assert int(match.group(1)) >= 16


def test_compose_kafka_configured_for_kraft() -> None:
    environment = _compose_environment("kafka")
    assert set(environment["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert environment["KAFKA_ADVERTISED_LISTENERS"] == "PLAINTEXT://kafka:9092"
    assert not any("ZOOKEEPER" in key for key in environment)


@pytest.mark.parametrize("service", ["prometheus", "grafana"])
def test_compose_bind_mount_sources_exist(service: str) -> None:
    mounts = _bind_mounts(service)
    assert mounts, f"{service} mounts no configuration"
    for source in mounts:
        assert (DEPLOY / source).exists(), f"{service} mounts missing {source}"


def test_prometheus_config_scrapes_alphintra_metrics() -> None:
    config = _load_yaml(DEPLOY / "prometheus" / "prometheus.yml")
    jobs = {job["job_name"]: job for job in cast(list[dict[str, Any]], config["scrape_configs"])}
    job = jobs["alphintra"]
    assert job.get("metrics_path", "/metrics") == "/metrics"
    targets = [target for static in job["static_configs"] for target in static["targets"]]
    assert targets == [f"alphintra:{SERVICE_PORT}"]


def test_prometheus_config_loads_mounted_alert_rules() -> None:
    config = _load_yaml(DEPLOY / "prometheus" / "prometheus.yml")
    mounts = _bind_mounts("prometheus")
    assert mounts["./prometheus/alerts.yml"] in config["rule_files"]
    command = cast(list[str], _compose_service("prometheus")["command"])
    assert f"--config.file={mounts['./prometheus/prometheus.yml']}" in command


# --- alert rules ---------------------------------------------------------------------------


def test_promql_metrics_tokenizer_skips_functions_labels_and_variables() -> None:
    expr = (
        'histogram_quantile(0.99, sum by (le, instance) (rate(a_bucket{job="x", le!="1e3"}'
        "[$__rate_interval]))) > 1e3 and on (instance) b offset 5m unless c == bool 0.5"
    )
    assert _promql_metrics(expr) == {"a_bucket", "b", "c"}


def test_alert_rules_every_rule_complete() -> None:
    rules = _alert_rules()
    for rule in rules:
        assert rule.get("alert"), f"rule without a name: {rule}"
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}, rule["alert"]
        assert rule["annotations"]["summary"], rule["alert"]
    names = [rule["alert"] for rule in rules]
    assert len(names) == len(set(names)), f"duplicate alert names in {names}"


@pytest.mark.parametrize("rule", _alert_rules(), ids=lambda rule: str(rule["alert"]))
def test_alert_rule_expression_references_only_known_metrics(rule: dict[str, Any]) -> None:
    metrics = _promql_metrics(str(rule["expr"]))
    assert metrics, f"{rule['alert']}: no metric found in {rule['expr']!r}"
    unknown = {name for name in metrics if _base_metric(name) is None}
    assert not unknown, f"{rule['alert']}: unknown metrics {unknown} in {rule['expr']!r}"


@pytest.mark.parametrize("metric", ALERT_METRICS)
def test_alert_rules_metric_alerted_on(metric: str) -> None:
    referenced = {
        _base_metric(name) for rule in _alert_rules() for name in _promql_metrics(str(rule["expr"]))
    }
    assert metric in referenced


def test_alert_rejection_rate_above_ten_percent_over_5m_fires() -> None:
    expr = " ".join(str(_alert("trading_orders_rejected_total")["expr"]).split())
    assert re.search(r"rate\(trading_orders_rejected_total\[5m\]\).*/.*", expr), expr
    assert "rate(trading_orders_placed_total[5m])" in expr
    assert expr.endswith("> 0.10"), expr


def test_alert_engine_down_after_1m_fires() -> None:
    rule = _alert("up")
    assert str(rule["expr"]).strip() == 'up{job="alphintra"} == 0'
    assert rule["for"] == "1m"


def test_alert_execution_latency_p99_above_half_second_fires() -> None:
    expr = " ".join(str(_alert("trading_order_execution_time_seconds_bucket")["expr"]).split())
    assert expr.startswith("histogram_quantile(0.99,"), expr
    assert "rate(trading_order_execution_time_seconds_bucket[5m])" in expr
    assert expr.endswith("> 0.5"), expr


@pytest.mark.parametrize(
    ("metric", "hold"), [("alphintra_database_up", "1m"), ("alphintra_venue_up", None)]
)
def test_alert_health_gauge_at_zero_fires(metric: str, hold: str | None) -> None:
    rule = _alert(metric)
    assert str(rule["expr"]).strip() == f"{metric} == 0"
    if hold is not None:
        assert rule["for"] == hold


# --- Grafana -------------------------------------------------------------------------------


def test_dashboard_schema_version_at_least_36() -> None:
    assert int(_dashboard()["schemaVersion"]) >= 36


@pytest.mark.parametrize("metric", DASHBOARD_METRICS)
def test_dashboard_metric_has_panel(metric: str) -> None:
    panels = cast(list[dict[str, Any]], _dashboard()["panels"])
    showing = [
        panel["title"]
        for panel in _panels(panels)
        if any(
            _base_metric(name) == metric
            for expr in _panel_exprs(panel)
            for name in _promql_metrics(expr)
        )
    ]
    assert showing, f"no panel queries {metric}"


def test_dashboard_queries_reference_only_known_metrics() -> None:
    for panel in _panels(cast(list[dict[str, Any]], _dashboard()["panels"])):
        for expr in _panel_exprs(panel):
            unknown = {name for name in _promql_metrics(expr) if _base_metric(name) is None}
            assert not unknown, f"panel {panel['title']!r}: unknown metrics {unknown}"


def test_dashboard_panels_unique_ids_and_laid_out() -> None:
    panels = list(_panels(cast(list[dict[str, Any]], _dashboard()["panels"])))
    ids = [panel["id"] for panel in panels]
    assert len(ids) == len(set(ids)), f"duplicate panel ids in {ids}"
    for panel in panels:
        grid = cast(dict[str, int], panel["gridPos"])
        assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 24, panel["title"]


def test_dashboard_queries_use_prometheus_datasource() -> None:
    for panel in _panels(cast(list[dict[str, Any]], _dashboard()["panels"])):
        if panel["type"] == "row":
            continue
        assert panel["datasource"]["type"] == "prometheus", panel["title"]
        for target in cast(list[dict[str, Any]], panel["targets"]):
            assert target["datasource"]["type"] == "prometheus", panel["title"]


def test_grafana_datasource_points_at_compose_prometheus() -> None:
    provisioning = _load_yaml(
        DEPLOY / "grafana" / "provisioning" / "datasources" / "prometheus.yml"
    )
    datasources = cast(list[dict[str, Any]], provisioning["datasources"])
    assert [(source["type"], source["url"]) for source in datasources] == [
        ("prometheus", "http://prometheus:9090")
    ]
    templating = cast(list[dict[str, Any]], _dashboard()["templating"]["list"])
    default = next(item for item in templating if item["type"] == "datasource")["current"]
    assert default["value"] == datasources[0]["uid"]


def test_grafana_dashboard_provider_reads_mounted_dashboards() -> None:
    provisioning = _load_yaml(DEPLOY / "grafana" / "provisioning" / "dashboards" / "alphintra.yml")
    paths = [provider["options"]["path"] for provider in provisioning["providers"]]
    mounts = _bind_mounts("grafana")
    assert paths == [mounts["./grafana/dashboards"]]
    assert mounts["./grafana/provisioning"] == "/etc/grafana/provisioning"


# --- Kubernetes ----------------------------------------------------------------------------


def test_k8s_deployment_liveness_probe_gets_healthz_on_service_port() -> None:
    probe = _container()["livenessProbe"]["httpGet"]
    assert probe["path"] == "/healthz"
    assert _container_port(probe["port"]) == SERVICE_PORT


def test_k8s_deployment_readiness_probe_gets_readyz_on_service_port() -> None:
    probe = _container()["readinessProbe"]["httpGet"]
    assert probe["path"] == "/readyz"
    assert _container_port(probe["port"]) == SERVICE_PORT


def test_k8s_deployment_runs_as_non_root() -> None:
    pod = _pod_spec()["securityContext"]
    container = _container()["securityContext"]
    assert pod["runAsNonRoot"] is True
    assert int(pod["runAsUser"]) != 0
    assert container["allowPrivilegeEscalation"] is False
    assert container["capabilities"]["drop"] == ["ALL"]


def test_k8s_deployment_root_filesystem_read_only_with_tmp_emptydir() -> None:
    assert _container()["securityContext"]["readOnlyRootFilesystem"] is True
    mounts = {mount["mountPath"]: mount["name"] for mount in _container()["volumeMounts"]}
    volumes = {volume["name"]: volume for volume in _pod_spec()["volumes"]}
    assert "emptyDir" in volumes[mounts["/tmp"]]


def test_k8s_deployment_resources_requested_and_limited() -> None:
    resources = _container()["resources"]
    assert {"cpu", "memory"} <= set(resources["requests"])  # the HPA needs a CPU request
    assert "memory" in resources["limits"]


def test_k8s_deployment_command_serves_on_service_port() -> None:
    expected = ["alphintra", "serve", "--host", "0.0.0.0", "--port", str(SERVICE_PORT)]
    assert _container().get("command", []) + _container()["args"] == expected


def test_k8s_deployment_environment_sets_every_service_variable() -> None:
    configmap = _k8s("configmap.yaml")
    sources = cast(list[dict[str, Any]], _container()["envFrom"])
    assert [source["configMapRef"]["name"] for source in sources] == [configmap["metadata"]["name"]]
    explicit = {entry["name"] for entry in _container()["env"]}
    assert (set(configmap["data"]) | explicit) - {"HOME"} == SERVICE_ENV


def test_k8s_deployment_secret_references_exist_in_example() -> None:
    secret = _k8s("secret.example.yaml")
    keys = set(secret["stringData"])
    for entry in _container()["env"]:
        reference = entry.get("valueFrom", {}).get("secretKeyRef")
        if reference is not None:
            assert reference["name"] == secret["metadata"]["name"], entry["name"]
            assert reference["key"] in keys, entry["name"]
    for volume in _pod_spec()["volumes"]:
        if "secret" in volume:
            assert volume["secret"]["secretName"] == secret["metadata"]["name"]
            assert {item["key"] for item in volume["secret"]["items"]} <= keys


def test_k8s_master_key_file_path_is_mounted_secret() -> None:
    path = Path(_k8s("configmap.yaml")["data"]["ALPHINTRA_MASTER_KEY_FILE"])
    volumes = {volume["name"]: volume for volume in _pod_spec()["volumes"]}
    mount = next(m for m in _container()["volumeMounts"] if m["mountPath"] == str(path.parent))
    items = volumes[mount["name"]]["secret"]["items"]
    assert path.name in {item["path"] for item in items}
    assert mount["readOnly"] is True


def test_k8s_secret_example_holds_only_placeholders() -> None:
    secret = _k8s("secret.example.yaml")
    assert "data" not in secret, "base64 data could hide a real secret; use stringData"
    for key, value in cast(dict[str, str], secret["stringData"]).items():
        assert "REPLACE_ME" in value, f"{key} is not a placeholder: {value!r}"
    kustomization = _k8s("kustomization.yaml")
    assert "secret.example.yaml" not in kustomization["resources"]


def test_k8s_hpa_targets_deployment_by_name() -> None:
    hpa = _k8s("hpa.yaml")
    deployment = _k8s("deployment.yaml")
    assert hpa["apiVersion"] == "autoscaling/v2"
    target = hpa["spec"]["scaleTargetRef"]
    assert (target["apiVersion"], target["kind"]) == (deployment["apiVersion"], "Deployment")
    assert target["name"] == deployment["metadata"]["name"]
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 10)
    metrics = cast(list[dict[str, Any]], hpa["spec"]["metrics"])
    assert [metric["resource"]["name"] for metric in metrics] == ["cpu"]
    assert "replicas" not in deployment["spec"], "the HPA owns the replica count"


def test_k8s_service_selects_deployment_pods_on_service_port() -> None:
    service = _k8s("service.yaml")
    labels = _k8s("deployment.yaml")["spec"]["template"]["metadata"]["labels"]
    selector = cast(dict[str, str], service["spec"]["selector"])
    assert selector.items() <= labels.items()
    ports = cast(list[dict[str, Any]], service["spec"]["ports"])
    assert [(port["port"], _container_port(port["targetPort"])) for port in ports] == [
        (SERVICE_PORT, SERVICE_PORT)
    ]


def test_k8s_deployment_selector_matches_template_labels() -> None:
    deployment = _k8s("deployment.yaml")
    selector = cast(dict[str, str], deployment["spec"]["selector"]["matchLabels"])
    assert selector.items() <= deployment["spec"]["template"]["metadata"]["labels"].items()


def test_k8s_manifests_live_in_namespace() -> None:
    namespace = _k8s("namespace.yaml")["metadata"]["name"]
    for path in sorted(K8S.glob("*.yaml")):
        document = _load_yaml(path)
        if document["kind"] in {"Namespace", "Kustomization"}:
            continue
        assert document["metadata"]["namespace"] == namespace, _rel(path)
    assert _k8s("kustomization.yaml")["namespace"] == namespace


def test_k8s_kustomization_lists_every_manifest_but_secret_example() -> None:
    resources = set(_k8s("kustomization.yaml")["resources"])
    manifests = {path.name for path in K8S.glob("*.yaml")}
    assert resources == manifests - {"kustomization.yaml", "secret.example.yaml"}

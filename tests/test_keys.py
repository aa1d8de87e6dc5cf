"""Pseudonymisation keys: placeholders and weak keys refused wherever a key is read, a throwaway key only for
generated data into the embedded warehouse, a fingerprint per batch (a changed key quarantines unless a rotation
was declared), and the key masked in Airflow's logs."""

import hashlib
import hmac
import os
import random
import secrets
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from conftest import PARTNERSHIP
from synthetic_ids import nhs_number

from partnership import cli, cli_run, loader, pseudonymise, runner, settings, warehouse
from partnership.registry import get_dataset

ENV = "PSEUDONYMISATION_KEY_NHS_NUMBER"
VARIABLE = "pseudonymisation_key_nhs_number"
ENV_EXAMPLE = Path(__file__).resolve().parents[1] / ".env.example"
HEADER = "referral_id,nhs_number,referral_date,age,sex,engaged\n"


def env_example_key() -> str:
    line = next(line for line in ENV_EXAMPLE.read_text().splitlines() if line.startswith(f"{ENV}="))
    return line.split("=", 1)[1]


def independent_pseudonym(key: str, nhs: str) -> str:
    return hmac.new(key.encode(), f"nhs_number:{nhs}".encode(), hashlib.sha256).hexdigest()


def land_referral(data_dir: Path, month: str, seed: int) -> tuple[Path, str]:
    """One tiny navigator referral file in the landing zone; returns it and its (synthetic) NHS number."""
    nhs = nhs_number(random.Random(seed))
    path = data_dir / "landing" / "health" / "navigator_referrals" / f"navigator_referrals_{month}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + f"NV{seed:010d},{nhs},{month}-02,15,M,Y\n")
    settings.upload_marker(path).touch()  # uploaded in full (docs/operating.md: Upload-complete rule)
    return path, nhs


def without_key(env: dict) -> dict:
    return {k: v for k, v in env.items() if k != ENV and not k.startswith("AIRFLOW_VAR_")}


WEAK_KEYS = {
    "the .env.example value": env_example_key(),
    "a placeholder word": "changeme-" + secrets.token_hex(32),
    "an example value": "example" + secrets.token_hex(32),
    "one character repeated": "a" * 64,
    "a block repeated": "0123456789" * 7,
    "hex digits in order, repeated": "0123456789abcdef" * 4,
    "two characters": "ab" * 16 + "ba" * 16,
    "16 bytes of hex": secrets.token_hex(16),
    "a made-up sentence of 32 characters": "a-test-key-made-up-for-this-test",
}


@pytest.mark.parametrize("key", WEAK_KEYS.values(), ids=WEAK_KEYS.keys())
def test_placeholder_and_weak_keys_are_refused_without_being_shown(key, monkeypatch):
    monkeypatch.setenv(ENV, key)
    with pytest.raises(pseudonymise.KeyUnavailable) as err:
        pseudonymise.get_key("nhs_number")
    assert ENV in str(err.value) and key not in str(err.value)


def test_generated_keys_are_accepted():
    for _ in range(200):
        for key in (secrets.token_hex(32), secrets.token_urlsafe(32), uuid.uuid4().hex + uuid.uuid4().hex):
            assert pseudonymise.key_problem(key) is None, "a key from the README's command must pass"


def test_the_fingerprint_identifies_the_key_without_being_it(monkeypatch):
    key = secrets.token_hex(32)
    monkeypatch.setenv(ENV, key)
    fp = pseudonymise.fingerprint(pseudonymise.get_key("nhs_number"))
    assert len(fp) == 16 and int(fp, 16) >= 0
    assert fp not in key and key not in fp and fp != key[:16]
    assert fp == pseudonymise.fingerprint(key.encode()), "the same key, the same fingerprint"
    assert fp != pseudonymise.fingerprint(secrets.token_hex(32).encode())
    label = b"partnership-warehouse key fingerprint v1"
    assert fp == hmac.new(key.encode(), label, hashlib.sha256).hexdigest()[:16]


def test_the_key_is_masked_by_airflows_secrets_masker(monkeypatch):
    from airflow.sdk._shared.secrets_masker import redact

    key = secrets.token_hex(32)
    monkeypatch.setenv(ENV, key)
    pseudonymise.get_key("nhs_number")
    assert redact(f"key in a log line: {key}.") == "key in a log line: ***."


def test_the_cli_refuses_a_placeholder_key_without_showing_it(tmp_path):
    env = {**without_key(os.environ), ENV: env_example_key(), "PARTNERSHIP_DATA_DIR": str(tmp_path)}
    for args in (("keys", "fingerprint"), ("keys", "check")):
        result = subprocess.run([PARTNERSHIP, *args], env=env, capture_output=True, text=True, timeout=300)
        assert result.returncode != 0, args
        assert ENV in result.stderr and env_example_key() not in result.stdout + result.stderr


def test_the_cli_prints_fingerprints_never_keys(tmp_path):
    key = secrets.token_hex(32)
    env = {**without_key(os.environ), ENV: key, "PARTNERSHIP_DATA_DIR": str(tmp_path)}
    result = subprocess.run([PARTNERSHIP, "keys", "fingerprint"], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert f"nhs_number {pseudonymise.fingerprint(key.encode())}" in " ".join(result.stdout.split())
    assert key not in result.stdout + result.stderr


def test_no_throwaway_key_when_the_airflow_variable_holds_one(monkeypatch):
    """`partnership run` on generated data into the embedded warehouse: the Variable's key, not a throwaway one."""
    key = secrets.token_hex(32)
    monkeypatch.delenv(ENV, raising=False)
    monkeypatch.setenv(f"AIRFLOW_VAR_{VARIABLE.upper()}", key)
    assert cli_run.pseudonymisation_keys_for_run(throwaway_allowed=True)
    assert ENV not in os.environ
    assert pseudonymise.get_key("nhs_number") == key.encode()


def test_a_throwaway_key_only_for_generated_data_into_the_embedded_warehouse(data_dir, monkeypatch):
    args = cli.parser().parse_args(["run"])
    assert cli_run.throwaway_key_allowed(args, warehouse_given=False)
    assert not cli_run.throwaway_key_allowed(args, warehouse_given=True)
    assert not cli_run.throwaway_key_allowed(cli.parser().parse_args(["run", "--no-generate"]), warehouse_given=False)
    # A file already in landing was not generated by this run: it may be real, and its original is deleted once
    # loaded, so it must never be pseudonymised with a key that is thrown away.
    land_referral(data_dir, "2024-04", 1)
    assert not cli_run.throwaway_key_allowed(args, warehouse_given=False)
    monkeypatch.delenv(ENV, raising=False)
    assert not cli_run.pseudonymisation_keys_for_run(throwaway_allowed=False), "no key anywhere and none allowed"
    assert ENV not in os.environ


@pytest.mark.integration
def test_the_worker_path_refuses_a_placeholder_key_and_leaves_the_file_landed(warehouse_url, data_dir, monkeypatch):
    monkeypatch.setenv(ENV, env_example_key())
    path, _ = land_referral(data_dir, "2024-04", 1)
    with pytest.raises(pseudonymise.KeyUnavailable, match=ENV):
        loader.validate(get_dataset("health__navigator_referrals"), path)
    assert path.exists()
    assert list(data_dir.rglob("*.csv")) == [path], "no pseudonymised copy, nothing quarantined"


def _batches(url):
    with warehouse.connect(url) as conn:
        return conn.execute("select batch_id, status, key_fingerprint from audit.load_batch order by 1").fetchall()


@pytest.mark.integration
def test_a_changed_key_quarantines_until_a_rotation_is_declared(warehouse_url, data_dir, monkeypatch):
    ds = get_dataset("health__navigator_referrals")
    old, new = secrets.token_hex(32), secrets.token_hex(32)
    monkeypatch.setenv(ENV, old)
    first = loader.ingest_file(ds, land_referral(data_dir, "2024-04", 1)[0])
    assert first.status == "loaded"
    assert _batches(warehouse_url) == [
        (first.batch_id, "loaded", f"nhs_number:{pseudonymise.fingerprint(old.encode())}")
    ]

    monkeypatch.setenv(ENV, new)
    second, _ = land_referral(data_dir, "2024-05", 2)
    with pytest.raises(loader.QuarantinedFile) as err:
        loader.ingest_file(ds, second)
    assert (
        f"pseudonymisation key for nhs_number changed since batch {first.batch_id}; declare a rotation with"
        " `partnership keys rotate`"
    ) in str(err.value)
    assert old not in str(err.value) and new not in str(err.value)

    env = {**os.environ, "WAREHOUSE_URL": warehouse_url, "PARTNERSHIP_DATA_DIR": str(data_dir)}
    result = subprocess.run(
        [PARTNERSHIP, "keys", "rotate", "--id-type", "nhs_number", "--reason", "key exposed in a test"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert new not in result.stdout + result.stderr
    with warehouse.connect(warehouse_url) as conn:
        rotations = conn.execute(
            "select id_type, new_fingerprint, reason, declared_by, declared_at from audit.key_rotation"
        ).fetchall()
    assert len(rotations) == 1
    id_type, fp, reason, by, at = rotations[0]
    assert (id_type, fp, reason) == ("nhs_number", pseudonymise.fingerprint(new.encode()), "key exposed in a test")
    assert by and at, "who declared it and when"

    third, nhs = land_referral(data_dir, "2024-06", 3)
    loaded = loader.ingest_file(ds, third)
    assert loaded.status == "loaded"
    with warehouse.connect(warehouse_url) as conn:
        pseudonyms = conn.execute(
            "select nhs_number from raw.health__navigator_referrals where _batch_id = %s", (loaded.batch_id,)
        ).fetchall()
    assert pseudonyms == [(independent_pseudonym(new, nhs),)]

    # Back to the old key, declared; then the new one again: its declaration was before the old key's return,
    # so it no longer counts (A, B, A, B must be announced each time).
    monkeypatch.setenv(ENV, old)
    pseudonymise.declare_rotation(warehouse_url, "nhs_number", "back to the first key")
    assert loader.ingest_file(ds, land_referral(data_dir, "2024-07", 4)[0]).status == "loaded"
    monkeypatch.setenv(ENV, new)
    with pytest.raises(loader.QuarantinedFile, match="changed since batch"):
        loader.ingest_file(ds, land_referral(data_dir, "2024-08", 5)[0])


@pytest.mark.integration
def test_a_throwaway_key_is_declared_so_the_next_demo_run_loads(warehouse_url, data_dir, monkeypatch):
    """Generated data into the embedded warehouse: each run's new throwaway key is recorded as a rotation."""
    ds = get_dataset("health__navigator_referrals")
    monkeypatch.setenv(ENV, secrets.token_hex(32))  # an earlier run's throwaway key
    assert loader.ingest_file(ds, land_referral(data_dir, "2024-04", 1)[0]).status == "loaded"
    monkeypatch.delenv(ENV)
    assert cli_run.pseudonymisation_keys_for_run(throwaway_allowed=True, url=warehouse_url)
    assert loader.ingest_file(ds, land_referral(data_dir, "2024-05", 2)[0]).status == "loaded"
    with warehouse.connect(warehouse_url) as conn:
        reasons = conn.execute("select reason from audit.key_rotation").fetchall()
    assert reasons == [("throwaway key for generated data (partnership run)",)]


@pytest.mark.integration
def test_the_loader_role_reads_rotations_but_cannot_declare_one(warehouse_url, login_role):
    import psycopg

    _, url = login_role(warehouse_url, "pw_loader")
    with warehouse.connect(url) as conn:
        assert conn.execute("select count(*) from audit.key_rotation").fetchone()[0] == 0
    with pytest.raises(psycopg.errors.InsufficientPrivilege), warehouse.connect(url) as conn:
        conn.execute("insert into audit.key_rotation (id_type, new_fingerprint) values ('nhs_number', 'x')")


@pytest.mark.integration
def test_run_with_no_generate_uses_the_key_in_the_airflow_variable(warehouse_url, data_dir, dbt_manifest):
    """The key lives only in the run's Airflow metadata DB: `partnership run --no-generate` must use it (before,
    a throwaway key in the environment overrode it). The CLI's own preparation, then one ingest DAG."""
    key = secrets.token_hex(32)
    path, nhs = land_referral(data_dir, "2024-04", 4)
    env = {**without_key(os.environ), "WAREHOUSE_URL": warehouse_url, "PARTNERSHIP_DATA_DIR": str(data_dir)}
    airflow_env = {**env, **runner.airflow_environment(warehouse_url)}
    Path(airflow_env["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)
    for command in (["db", "migrate"], ["variables", "set", VARIABLE, key]):
        subprocess.run([sys.executable, "-m", "airflow", *command], env=airflow_env, check=True, capture_output=True)
    script = """
import os, sys
from partnership import cli, cli_run, runner
args = cli.parser().parse_args(["run", "--no-generate"])
url = os.environ["WAREHOUSE_URL"]
if not cli_run.prepare_run(args, url, warehouse_given=True):
    sys.exit(2)
assert "PSEUDONYMISATION_KEY_NHS_NUMBER" not in os.environ, "no throwaway key"
sys.exit(0 if runner.run_dag(runner.load_dags()["ingest_health__navigator_referrals"]) == "success" else 1)
"""
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert key not in result.stdout + result.stderr
    with warehouse.connect(warehouse_url) as conn:
        loaded = conn.execute("select nhs_number from raw.health__navigator_referrals").fetchall()
    assert loaded == [(independent_pseudonym(key, nhs),)]


@pytest.mark.integration
def test_run_refuses_a_placeholder_and_a_missing_key_against_a_given_warehouse(warehouse_url, data_dir):
    env = {**without_key(os.environ), "WAREHOUSE_URL": warehouse_url, "PARTNERSHIP_DATA_DIR": str(data_dir)}
    for extra in ({ENV: env_example_key()}, {}):
        result = subprocess.run(
            [PARTNERSHIP, "run", "--months", "1", "--scale", "0.1"],
            env={**env, **extra},
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert result.returncode == 2, result.stdout[-2000:] + result.stderr[-2000:]
        assert ENV in result.stderr and env_example_key() not in result.stdout + result.stderr
        assert "throwaway" not in result.stdout
        assert not (data_dir / "landing").exists(), "nothing generated, nothing loaded"

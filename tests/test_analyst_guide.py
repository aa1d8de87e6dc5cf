"""docs/analyst_guide.md kept true: every question's query runs as a member of pw_analyst against the README's
pipeline run, returns rows, and returns the columns of the answer table printed under it. The answers' values are
the default run's (`make run`, twelve months), so only their shape is checked against this shorter run."""

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from partnership import security, warehouse

pytestmark = pytest.mark.integration

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "analyst_guide.md"
QUESTIONS_IN_GUIDE = 10
ANALYST_SCHEMAS = {"marts", "publish"}


@dataclass(frozen=True)
class Question:
    number: int
    title: str
    sql: str
    answer_header: tuple[str, ...]


def table_cells(line: str) -> tuple[str, ...]:
    return tuple(cell.strip() for cell in line.strip().strip("|").split("|"))


def parse_question(section: str) -> Question:
    heading = re.match(r"### Q(\d+)\. (.+)", section)
    assert heading, section[:80]
    sql = re.findall(r"^```sql\n(.*?)^```", section, re.S | re.M)
    assert len(sql) == 1, f"Q{heading[1]}: {len(sql)} sql blocks"
    assert "Answer on the default run:" in section, f"Q{heading[1]}: no answer"
    after = section.split("Answer on the default run:", 1)[1]
    table = []
    for line in after.strip().splitlines():
        if not line.startswith("|"):
            break
        table.append(line)
    assert len(table) >= 3, f"Q{heading[1]}: no answer table (header, rule, a row) under 'Answer on the default run:'"
    assert set(table[1].replace("|", "").strip()) <= set("-: "), f"Q{heading[1]}: the table's second line is no rule"
    header = table_cells(table[0])
    assert all(len(table_cells(row)) == len(header) for row in table[2:]), f"Q{heading[1]}: ragged answer table"
    return Question(int(heading[1]), heading[2], sql[0], header)


def guide_questions() -> list[Question]:
    sections = re.split(r"(?m)^(?=### Q)", GUIDE.read_text())
    return [parse_question(section) for section in sections if section.startswith("### Q")]


QUESTIONS = guide_questions()


def test_the_guide_asks_ten_questions_numbered_in_order():
    assert [q.number for q in QUESTIONS] == list(range(1, QUESTIONS_IN_GUIDE + 1))


@pytest.mark.parametrize("question", QUESTIONS, ids=[f"Q{q.number}" for q in QUESTIONS])
def test_the_query_reads_only_analyst_schemas_in_a_set_order(question):
    # Every relation is named with its schema (no search_path surprises), and it is marts or publish.
    relations = re.findall(r"\b(?:from|join)\s+([a-z_]+)\.([a-z_0-9]+)", question.sql, re.I)
    assert relations, question.sql
    assert {schema for schema, _ in relations} <= ANALYST_SCHEMAS, relations
    assert re.search(r"\border\s+by\b", question.sql, re.I), "unordered: the answer table would not be stable"


@pytest.mark.parametrize("question", QUESTIONS, ids=[f"Q{q.number}" for q in QUESTIONS])
def test_the_query_runs_as_an_analyst_and_returns_the_answer_tables_columns(question, pipeline_run, login_role):
    name, url = login_role(pipeline_run["url"], security.ANALYST)
    with warehouse.connect(url) as conn:
        conn.read_only = True  # the guide's queries only read; a write would fail here
        assert conn.execute("select current_user").fetchone()[0] == name  # not the superuser
        cursor = conn.execute(question.sql)
        columns = tuple(column.name for column in cursor.description)
        rows = cursor.fetchall()
    assert rows, f"Q{question.number} returned no rows"
    assert columns == question.answer_header

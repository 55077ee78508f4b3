"""The search query language: parsing, and its renderings for FTS5 and PostgreSQL.

No database here, except SQLite's FTS5 in memory to prove that every rendering is valid FTS5.
The backends themselves are tested in test_search.py.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator

import pytest
from sqlalchemy.dialects import postgresql

from microblog.errors import Invalid
from microblog.posts.search_query import (
    MAX_ALTERNATIVES,
    MAX_QUERY_LENGTH,
    MAX_WORDS,
    Query,
    Term,
    as_one_phrase,
    parse,
    to_fts5,
    to_tsquery,
    wanted_terms,
)
from tests.posts.hostile_queries import HOSTILE, REFUSED, SEARCHED


def words(*text: str) -> Term:
    return Term(tuple(text))


def excluded(*text: str) -> Term:
    return Term(tuple(text), excluded=True)


# --- parsing -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "clauses"),
    [
        ("fox", ((words("fox"),),)),
        ("Red FOX", ((words("red"),), (words("fox"),))),
        # Words are runs of letters and digits, as FTS5's unicode61 cuts them.
        ("hello, world!", ((words("hello"),), (words("world"),))),
        ("e-mail", ((words("e", "mail"),),)),
        ("foo_bar2", ((words("foo", "bar2"),),)),
        ("Ünïcode 日本語", ((words("ünïcode"),), (words("日本語"),))),
        ('"Red  Fox" jumps', ((words("red", "fox"),), (words("jumps"),))),
        ("fox -red", ((words("fox"),), (excluded("red"),))),
        ('fox -"red car"', ((words("fox"),), (excluded("red", "car"),))),
        ("cat OR dog bird", ((words("cat"), words("dog")), (words("bird"),))),
        ("cat OR dog OR eel", ((words("cat"), words("dog"), words("eel")),)),
        ("cat or dog", ((words("cat"),), (words("or"),), (words("dog"),))),
        ('"OR" cat', ((words("or"),), (words("cat"),))),
        ("OR cat OR", ((words("cat"),),)),
        ("cat !!! dog", ((words("cat"),), (words("dog"),))),
    ],
)
def test_parse_reads_words_phrases_exclusions_and_alternatives(
    text: str, clauses: tuple[tuple[Term, ...], ...]
) -> None:
    assert parse(text) == Query(clauses)


@pytest.mark.parametrize(
    ("text", "clauses"),
    [
        ("-b OR c", ((excluded("b"),), (words("c"),))),
        ("a -b OR c", ((words("a"),), (excluded("b"),), (words("c"),))),
        ("a OR -b", ((words("a"),), (excluded("b"),))),
    ],
)
def test_or_next_to_an_excluded_term_is_dropped(
    text: str, clauses: tuple[tuple[Term, ...], ...]
) -> None:
    assert parse(text) == Query(clauses)


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("", "at least one word"),
        ("   ", "at least one word"),
        ("!?* -- ...", "at least one word"),
        ("OR", "at least one word"),
        ("-fox", "at least one word"),
        ('-fox -"red car"', "at least one word"),
        ('"red fox', "unclosed quote"),
        ('fox "', "unclosed quote"),
        ('"a" "b" "', "unclosed quote"),
        ("a" * (MAX_QUERY_LENGTH + 1), "at most 200 characters"),
        (" ".join(["fox"] * (MAX_WORDS + 1)), f"at most {MAX_WORDS} words"),
        ('"red fox" ' * (MAX_WORDS // 2) + "den", f"at most {MAX_WORDS} words"),
        ("fox " + "-den " * MAX_WORDS, f"at most {MAX_WORDS} words"),
        (" OR ".join(["fox"] * (MAX_ALTERNATIVES + 2)), f"OR at most {MAX_ALTERNATIVES} times"),
        ("a OR b c OR d OR e f OR g OR h", f"OR at most {MAX_ALTERNATIVES} times"),
    ],
)
def test_parse_refuses_what_cannot_be_searched(text: str, complaint: str) -> None:
    with pytest.raises(Invalid) as refused:
        parse(text)

    assert refused.value.field == "q"
    assert refused.value.message.startswith("q ")
    assert complaint in refused.value.message


def test_a_query_of_exactly_the_maximum_length_is_accepted() -> None:
    assert parse("a" * MAX_QUERY_LENGTH) == Query(((words("a" * MAX_QUERY_LENGTH),),))


def test_a_query_of_as_many_words_and_ors_as_allowed_is_accepted() -> None:
    alternatives = " OR ".join(["fox"] * (MAX_ALTERNATIVES + 1))
    rest = " den" * (MAX_WORDS - MAX_ALTERNATIVES - 1)
    query = parse(alternatives + rest)
    assert len(query.clauses[0]) == MAX_ALTERNATIVES + 1
    assert sum(len(term.words) for clause in query.clauses for term in clause) == MAX_WORDS


# --- helpers for ranking -------------------------------------------------------------------


def test_wanted_terms_leaves_out_the_excluded_ones() -> None:
    assert wanted_terms(parse("cat OR dog -bird fish")) == parse("cat OR dog fish")


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("red fox", ("red", "fox")),
        ('"red fox" jumps -cat', ("red", "fox", "jumps")),
        ("fox", None),
        ('"red fox"', None),
        ("red fox -cat -dog", ("red", "fox")),
        ("red OR blue fox", None),
    ],
)
def test_as_one_phrase_joins_the_wanted_terms_when_there_are_several(
    text: str, phrase: tuple[str, ...] | None
) -> None:
    expected = None if phrase is None else Query(((Term(phrase),),))
    assert as_one_phrase(parse(text)) == expected


# --- FTS5 ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expression"),
    [
        ("fox", '("fox")'),
        ("red fox", '("red") AND ("fox")'),
        ('"red fox"', '("red fox")'),
        ("cat OR dog bird", '("cat" OR "dog") AND ("bird")'),
        ("fox -red", '(("fox")) NOT "red"'),
        ('fox -"red car" -cat', '((("fox")) NOT "red car") NOT "cat"'),
    ],
)
def test_to_fts5_quotes_every_word(text: str, expression: str) -> None:
    assert to_fts5(parse(text)) == expression


@pytest.fixture(scope="module")
def fts5() -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE VIRTUAL TABLE t USING fts5(x, tokenize='unicode61')")
    connection.execute("INSERT INTO t VALUES ('a b c')")
    yield connection
    connection.close()


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_queries_are_refused_exactly_as_listed(text: str) -> None:
    if text in REFUSED:
        with pytest.raises(Invalid) as refused:
            parse(text)
        assert (refused.value.field, refused.value.message) == ("q", REFUSED[text])
    else:
        assert parse(text).clauses


@pytest.mark.parametrize("text", SEARCHED)
def test_every_fts5_rendering_is_a_valid_match_expression(
    fts5: sqlite3.Connection, text: str
) -> None:
    query = parse(text)
    fts5.execute("SELECT count(*) FROM t WHERE t MATCH ?", (to_fts5(query),)).fetchone()


# --- PostgreSQL tsquery --------------------------------------------------------------------


PHRASE = re.compile(r"phraseto_tsquery\(%\((\w+)\)s::REGCONFIG, %\((\w+)\)s::VARCHAR\)")


def compiled(query: Query) -> tuple[str, list[tuple[object, object]]]:
    """`to_tsquery(query)` as SQL with each phraseto_tsquery() written P, and the values
    bound to each P's (configuration, text)."""
    sql = to_tsquery(query).compile(dialect=postgresql.dialect())
    values = [(sql.params[config], sql.params[text]) for config, text in PHRASE.findall(sql.string)]
    return PHRASE.sub("P", sql.string), values


@pytest.mark.parametrize(
    ("text", "shape", "phrases"),
    [
        ("fox", "P", ["fox"]),
        ('"red fox"', "P", ["red fox"]),
        ("red fox", "P && P", ["red", "fox"]),
        ("cat OR dog bird", "(P || P) && P", ["cat", "dog", "bird"]),
        ("fox -red", "P && (!! P)", ["fox", "red"]),
        ('fox -"red car"', "P && (!! P)", ["fox", "red car"]),
        ("a b c d", "(P && P) && (P && P)", ["a", "b", "c", "d"]),
    ],
)
def test_to_tsquery_combines_phrase_queries_with_tsquery_operators(
    text: str, shape: str, phrases: list[str]
) -> None:
    sql, values = compiled(parse(text))

    assert sql == shape
    assert values == [("simple", phrase) for phrase in phrases]


@pytest.mark.parametrize("text", SEARCHED)
def test_user_text_reaches_postgresql_only_as_bound_values(text: str) -> None:
    query = parse(text)
    sql, values = compiled(query)

    # Apart from the phrase queries, the SQL holds nothing but operators and parentheses.
    assert set(sql) <= set("P()&|! "), sql
    wanted = [term for clause in query.clauses for term in clause if not term.excluded]
    unwanted = [term for clause in query.clauses for term in clause if term.excluded]
    assert values == [("simple", " ".join(term.words)) for term in wanted + unwanted]


def test_a_long_query_nests_shallowly() -> None:
    # Built directly: parse refuses so many words (MAX_WORDS), but the renderer must not care.
    sql, _ = compiled(Query(tuple((words("a"),) for _ in range(100))))

    depth = deepest = 0
    for char in sql:
        depth += {"(": 1, ")": -1}.get(char, 0)
        deepest = max(deepest, depth)
    assert deepest <= 8

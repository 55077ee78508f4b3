"""The search query language, parsed once and rendered for each search backend.

People type words, "quoted phrases", `-excluded` words and `OR` between alternatives. Words
are cut the way both backends cut text (runs of letters and digits, lower-cased), so a query
means the same on SQLite FTS5 and on PostgreSQL. Anything that cannot be searched raises
`Invalid`, which the doors show as a 400.

A query's cost grows with its words and its alternatives (each row matched is tested and
ranked against every one of them), so both are bounded: at most MAX_WORDS words (in phrases or
not, wanted or excluded) and MAX_ALTERNATIVES uses of OR. The time a search may run is bounded
apart (`search_budget`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.dialects.postgresql import TSQUERY, phraseto_tsquery
from sqlalchemy.sql.elements import UnaryExpression
from sqlalchemy.sql.operators import custom_op

from microblog.errors import N_, Invalid
from microblog.text import storable

MAX_QUERY_LENGTH = 200
MAX_WORDS = 16
MAX_ALTERNATIVES = 4
_WORD = re.compile(r"[^\W_]+")
_TOKEN = re.compile(r'(-?)"([^"]*)"|(-?)([^\s"]+)|(")')
# PostgreSQL's text search configuration: no stemming and no stop words, as FTS5's unicode61.
TS_CONFIG = "simple"
_NOT: custom_op[Any] = custom_op("!!")


@dataclass(frozen=True)
class Term:
    """A word or a phrase (several words in a row), perhaps excluded."""

    words: tuple[str, ...]
    excluded: bool = False


@dataclass(frozen=True)
class Query:
    """Clauses that must all match; each clause is a list of alternatives (OR)."""

    clauses: tuple[tuple[Term, ...], ...]


def parse(text: str) -> Query:
    storable("q", text)
    if len(text) > MAX_QUERY_LENGTH:
        raise Invalid("q", N_("q must be at most %(max)s characters"), max=MAX_QUERY_LENGTH)
    clauses: list[list[Term]] = []
    join_next = False
    for match in _TOKEN.finditer(text):
        if match.group(5):
            raise Invalid("q", N_('q has an unclosed quote (")'))
        quoted = match.group(2) is not None
        raw = match.group(2) if quoted else match.group(4)
        excluded = bool(match.group(1) or match.group(3))
        if not quoted and raw == "OR":
            join_next = bool(clauses)
            continue
        words = tuple(word.lower() for word in _WORD.findall(raw))
        if not words:
            continue
        term = Term(words, excluded)
        # OR joins wanted terms only; next to an excluded one it is dropped ("-a OR b" means
        # "-a b"): "b, or anything without a" cannot be said in FTS5, whose NOT is binary.
        if join_next and not excluded and not clauses[-1][0].excluded:
            clauses[-1].append(term)
        else:
            clauses.append([term])
        join_next = False
    if not any(not term.excluded for clause in clauses for term in clause):
        raise Invalid("q", N_("q needs at least one word to look for"))
    query = Query(tuple(tuple(clause) for clause in clauses))
    _check_cost(query)
    return query


def _check_cost(query: Query) -> None:
    terms = [term for clause in query.clauses for term in clause]
    if sum(len(term.words) for term in terms) > MAX_WORDS:
        raise Invalid("q", N_("q may hold at most %(max)s words"), max=MAX_WORDS)
    if len(terms) - len(query.clauses) > MAX_ALTERNATIVES:
        raise Invalid("q", N_("q may use OR at most %(max)s times"), max=MAX_ALTERNATIVES)


def to_fts5(query: Query) -> str:
    """An FTS5 MATCH expression; every word is quoted, so nothing in it is syntax."""

    def phrase(term: Term) -> str:
        return '"' + " ".join(term.words) + '"'

    positive = []
    negative = []
    for clause in query.clauses:
        if clause[0].excluded:
            negative.append(phrase(clause[0]))
        else:
            positive.append("(" + " OR ".join(phrase(term) for term in clause) + ")")
    expression = " AND ".join(positive)
    for excluded in negative:
        expression = f"({expression}) NOT {excluded}"
    return expression


def wanted_terms(query: Query) -> Query:
    """`query` without its excluded terms: what a match is ranked by."""
    return Query(tuple(clause for clause in query.clauses if not clause[0].excluded))


def as_one_phrase(query: Query) -> Query | None:
    """The wanted terms of `query` in a row, as one phrase; None if that says nothing new.

    Ranking puts the posts that hold the words as typed (`red fox` as "red fox") above those
    that merely hold them somewhere. Only for queries of two or more terms without OR.
    """
    wanted = wanted_terms(query).clauses
    if len(wanted) < 2 or any(len(clause) > 1 for clause in wanted):
        return None
    words = tuple(word for (term,) in wanted for word in term.words)
    return Query(((Term(words),),))


def to_tsquery(query: Query) -> ColumnElement[Any]:
    """A PostgreSQL `tsquery` expression with the same meaning as `to_fts5`.

    Every term is a bound parameter read by `phraseto_tsquery`, which parses it as document
    text, never as tsquery syntax; the operators between terms are written here.
    """

    def term_query(term: Term) -> ColumnElement[Any]:
        return phraseto_tsquery(TS_CONFIG, " ".join(term.words))

    def combine(operator: str, parts: list[ColumnElement[Any]]) -> ColumnElement[Any]:
        # Halves, not a chain: a 100-word query nests 7 deep, not 100 (the SQL compiler
        # recurses once per level). Both operators are associative.
        if len(parts) == 1:
            return parts[0]
        middle = len(parts) // 2
        left, right = combine(operator, parts[:middle]), combine(operator, parts[middle:])
        return left.op(operator, return_type=TSQUERY)(right)

    positive: list[ColumnElement[Any]] = []
    negative: list[ColumnElement[Any]] = []
    for clause in query.clauses:
        if clause[0].excluded:
            negative.append(UnaryExpression(term_query(clause[0]), operator=_NOT, type_=TSQUERY))
        else:
            positive.append(combine("||", [term_query(term) for term in clause]))
    return combine("&&", positive + negative)

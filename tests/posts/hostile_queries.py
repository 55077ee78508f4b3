"""Query strings that mean something to SQL, to FTS5 or to tsquery syntax, and other oddities.

Each must be either refused as an invalid `q` (those in REFUSED, with its message: no words,
an unclosed quote, more words than a query may hold) or searched as plain words: never an
error.
"""

from microblog.posts.search_query import MAX_ALTERNATIVES, MAX_QUERY_LENGTH, MAX_WORDS

HOSTILE = [
    "a & b",
    "a | b",
    "!a",
    "!!a",
    "a <-> b",
    "a <2> b",
    "a:*",
    ":*",
    "a:A",
    "'",
    "''",
    "'a'",
    "\\",
    "a\\",
    "%",
    "_",
    "a%b_c",
    "*",
    "a*",
    "^a",
    "NEAR(",
    "NEAR(a b)",
    "NEAR(a b, 2)",
    "(a",
    "a)",
    "{a b}",
    "body: a",
    "body:a",
    "a AND b",
    "a NOT b",
    "NOT a",
    "AND",
    "OR",
    "OR OR a OR",
    "-a OR b",
    "a OR -b",
    "-",
    "--a",
    '"',
    '""',
    '"a" "',
    '-"a b',
    "' OR 1=1 --",
    "'; DROP TABLE posts; --",
    "a; SELECT 1",
    "${a}",
    "日本語",
    "ünïcode ÜNÏCODE",
    "😀 a😀b",
    "\u200b",
    "a\u0301",
    "²",
    "NULL",
    "a\tb\nc",
    "%00",
    "a" * MAX_QUERY_LENGTH,
    "ab " * 66 + "ab",
    "a " + "-b " * 66,
    " OR ".join(["a"] * 40),
    '"' + "a " * 99 + '"',
    # As many words and ORs as a query may hold.
    " ".join(["ab"] * MAX_WORDS),
    "a " + "-b " * (MAX_WORDS - 1),
    " OR ".join(["a"] * (MAX_ALTERNATIVES + 1)) + " b" * (MAX_WORDS - MAX_ALTERNATIVES - 1),
    '"' + "a " * MAX_WORDS + '"',
]

NO_WORD = "q needs at least one word to look for"
UNCLOSED = 'q has an unclosed quote (")'
TOO_MANY_WORDS = f"q may hold at most {MAX_WORDS} words"
TOO_MANY_ORS = f"q may use OR at most {MAX_ALTERNATIVES} times"
# The hostile queries that hold no word to look for, or an unclosed quote; every other one is
# searched.
REFUSED = {
    ":*": NO_WORD,
    "'": NO_WORD,
    "''": NO_WORD,
    "\\": NO_WORD,
    "%": NO_WORD,
    "_": NO_WORD,
    "*": NO_WORD,
    "OR": NO_WORD,
    "-": NO_WORD,
    "--a": NO_WORD,
    '""': NO_WORD,
    "\u200b": NO_WORD,
    '"': UNCLOSED,
    '"a" "': UNCLOSED,
    '-"a b': UNCLOSED,
    "ab " * 66 + "ab": TOO_MANY_WORDS,
    "a " + "-b " * 66: TOO_MANY_WORDS,
    " OR ".join(["a"] * 40): TOO_MANY_WORDS,
    '"' + "a " * 99 + '"': TOO_MANY_WORDS,
}
SEARCHED = [text for text in HOSTILE if text not in REFUSED]

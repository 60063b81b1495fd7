"""The class roster: a CSV of students (name, e-mail), validated all at once. Pure.

Every problem is reported with the roster file, line and column before anything
is created: missing columns, empty names, bad e-mail addresses, the same
student twice, and different names that would become the same stack once
normalised (``Bob Smith`` and ``bob.smith`` both become ``student-bob-smith``).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from builders.names import short_hash
from workshop.terminal import describe, unsafe

STACK_PREFIX = "student-"
"""Every student stack is ``student-<slug>``; the shared trail watches the buckets this implies."""
SLUG_MAX = 40
NAME_MAX = 100
REQUIRED_COLUMNS = ("name", "email")

# One '@', a dotted domain, no spaces or characters mail systems and tags refuse.
_EMAIL_RE = re.compile(r"^[A-Za-z0-9.!#$%&*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                       r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")
_TAG_UNSAFE = re.compile(r"[^\w\s.:/=+\-@]")


@dataclass(frozen=True)
class Problem:
    path: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.message}"


class RosterError(ValueError):
    """The roster has problems; ``problems`` lists every one, in file order."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems, key=lambda p: (p.line, p.column))
        super().__init__(f"{len(self.problems)} problem(s) in the roster:\n"
                         + "\n".join(f"  {p}" for p in self.problems))


@dataclass(frozen=True)
class Student:
    name: str
    email: str
    line: int
    stack: str

    @property
    def owner_tag(self) -> str:
        """The name as an AWS tag value (letters, digits, spaces and ``_.:/=+-@`` only); the e-mail, then
        the stack name, where nothing of the name is left."""
        for text in (self.name, self.email):
            cleaned = re.sub(r"\s+", " ", _TAG_UNSAFE.sub(" ", text)).strip()
            if cleaned:
                return cleaned[:256]
        return self.stack  # letters, digits and '-' only


# Letters NFKD does not decompose into an ASCII base letter.
_TRANSLITERATE = str.maketrans({"ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "æ": "ae", "Æ": "AE", "œ": "oe",
                                "Œ": "OE", "ß": "ss", "đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "þ": "th",
                                "Þ": "TH", "ı": "i"})


def slugify(name: str) -> str:
    """A student's name as lowercase ASCII letters, digits and single '-'.

    Accents are dropped (``José Núñez`` -> ``jose-nunez``); a name with no
    ASCII letter or digit left (``李雷``) becomes ``n<hash>``; a long slug is
    cut and followed by a hash of the whole name, so long names stay distinct.
    """
    ascii_text = unicodedata.normalize("NFKD", name.translate(_TRANSLITERATE)).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    digest = short_hash(unicodedata.normalize("NFC", name.strip()))
    if not slug:
        return f"n{digest}"
    if len(slug) > SLUG_MAX:
        slug = f"{slug[:SLUG_MAX - len(digest) - 1].rstrip('-')}-{digest}"
    return slug


def stack_name(name: str) -> str:
    return STACK_PREFIX + slugify(name)


def valid_email(email: str) -> bool:
    return bool(_EMAIL_RE.match(email)) and len(email) <= 254 and ".." not in email


def load_roster(path: str | Path) -> list[Student]:
    """Read and validate a roster file (UTF-8, with or without a BOM)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise RosterError([Problem(str(path), 0, 0, "roster file not found")]) from None
    except IsADirectoryError:
        raise RosterError([Problem(str(path), 0, 0, "is a directory; give the roster's CSV file")]) from None
    except UnicodeDecodeError as error:
        raise RosterError([Problem(str(path), 1, 1, f"not UTF-8 text ({error.reason}); save the roster as CSV UTF-8")]) from None
    except OSError as error:  # permissions, a symlink loop, a device, ...
        raise RosterError([Problem(str(path), 0, 0, f"cannot be read ({error.strerror or error})")]) from None
    return parse_roster(text, str(path))


def parse_roster(text: str, path: str = "students.csv") -> list[Student]:
    """Students of a CSV text with a header ``name,email`` (more columns are ignored).

    Blank lines and lines starting with ``#`` are skipped. Raises RosterError
    listing every problem; returns the students in file order otherwise.
    """
    problems: list[Problem] = []
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    header: list[str] | None = None
    columns: dict[str, int] = {}
    students: list[Student] = []
    line_end = 0
    for row in _rows(reader, path):
        line = line_end + 1
        line_end = reader.line_num
        if not row or all(not cell.strip() for cell in row) or row[0].lstrip().startswith("#"):
            continue
        if header is None:
            header = [cell.strip().lower() for cell in row]
            for column in REQUIRED_COLUMNS:
                if column in header:
                    columns[column] = header.index(column)
                else:
                    problems.append(Problem(path, line, 1, f"header has no {column!r} column "
                                                           f"(found {', '.join(header) or 'nothing'}; expected name,email)"))
            if problems:
                raise RosterError(problems)
            continue
        student = _student(row, line, columns, path, problems)
        if student:
            students.append(student)
    if header is None:
        raise RosterError([Problem(path, 1, 1, "the roster is empty; expected a header name,email and one line per student")])
    problems.extend(_duplicates(students, columns, path))
    if not students and not problems:
        problems.append(Problem(path, line_end or 1, 1, "the roster lists no students"))
    if problems:
        raise RosterError(problems)
    return students


def _rows(reader, path: str):
    """The reader's rows; a CSV error (a field over the size limit, ...) as a problem on its line."""
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise RosterError([Problem(path, reader.line_num, 1, f"not readable as CSV: {error}")]) from None
        yield row


def _invisible(text: str) -> str | None:
    """Why a name can't be used as is: its first control, format (bidi override, zero-width) or
    separator character, which would reorder or hide text wherever the name is shown."""
    for position, char in enumerate(text, start=1):
        if char not in "\t\r\n" and unsafe(char):  # tabs and line breaks fold into spaces
            return (f"name contains the invisible or control character {describe(char)} at character "
                    f"{position}; remove it")
    return None


def _student(row: list[str], line: int, columns: dict[str, int], path: str, problems: list[Problem]) -> Student | None:
    needed = max(columns.values()) + 1
    if len(row) < needed:
        problems.append(Problem(path, line, len(row) + 1,
                                f"{len(row)} field(s), expected at least {needed} (name,email); "
                                "quote names that contain a comma"))
        return None
    name = unicodedata.normalize("NFC", " ".join(row[columns["name"]].split()))
    email = row[columns["email"]].strip()
    name_col, email_col = columns["name"] + 1, columns["email"] + 1
    ok = True
    if not name:
        problems.append(Problem(path, line, name_col, "empty name"))
        ok = False
    elif len(name) > NAME_MAX:
        problems.append(Problem(path, line, name_col, f"name longer than {NAME_MAX} characters"))
        ok = False
    elif _invisible(row[columns["name"]]):
        problems.append(Problem(path, line, name_col, _invisible(row[columns["name"]])))
        ok = False
    if not email:
        problems.append(Problem(path, line, email_col, f"empty e-mail for {name or 'this student'!r}"))
        ok = False
    elif not valid_email(email):
        problems.append(Problem(path, line, email_col, f"{email!r} is not an e-mail address (name@example.com)"))
        ok = False
    return Student(name=name, email=email, line=line, stack=stack_name(name)) if ok else None


def _duplicates(students: list[Student], columns: dict[str, int], path: str) -> list[Problem]:
    problems = []
    first_by_email: dict[str, Student] = {}
    first_by_name: dict[str, Student] = {}
    first_by_stack: dict[str, Student] = {}
    for student in students:
        email = student.email.lower()
        if email in first_by_email:
            other = first_by_email[email]
            problems.append(Problem(path, student.line, columns["email"] + 1,
                                    f"e-mail {student.email!r} already given for {other.name!r} on line {other.line}"))
        else:
            first_by_email[email] = student
        name = student.name.casefold()
        stack = student.stack
        if name in first_by_name:
            other = first_by_name[name]
            problems.append(Problem(path, student.line, columns["name"] + 1,
                                    f"{student.name!r} is listed twice (first on line {other.line}); "
                                    "add a distinguishing initial or remove the duplicate"))
        elif stack in first_by_stack:
            other = first_by_stack[stack]
            problems.append(Problem(path, student.line, columns["name"] + 1,
                                    f"{student.name!r} and {other.name!r} (line {other.line}) both become stack "
                                    f"{stack!r}; make the names differ in letters or digits (e.g. add an initial)"))
        first_by_name.setdefault(name, student)
        first_by_stack.setdefault(stack, student)
    return problems

"""Accept an RTF file only when every control word in it is a formatting or text word.

RTF carries malware in embedded objects, and the control words that embed hide easily: in an
"ignorable" destination (``{\\*\\anything ...}``, which a reader that does not know it skips
while another reader does not), behind another word, in raw binary (``\\bin``), or in a field
that fetches a file (``INCLUDEPICTURE``, ``INCLUDETEXT``, ``DDEAUTO``, a hyperlink to a
``\\\\server\\share``). Looking for a few bad words misses what the next trick invents, so the
whole file is tokenised as a reader would, and EVERY control word must be in the allow-list of
``rtf_words``; after ``\\*`` only the listed destinations are accepted; the instruction of each
field is decoded (``\\'hh`` and ``\\u`` escapes included) and must be one of ``FIELDS``, a
hyperlink only to a web page or an e-mail address. Shapes and pictures carry properties
(``{\\sp{\\sn name}{\\sv value}}``), which Word parses with its own code (CVE-2010-3333 is an
overflow in ``pFragments``'s value) and which may link a picture to a file or a share (``pibName``:
opening the letter would send the reader's Windows credentials to that share). Each name and
value is decoded like an instruction and holds only text: the name must be one of
``SHAPE_PROPERTIES``, a number's value a number, a text's value no path nor link, and short.
Word's opaque containers (``WORD_DATA``) are refused with the advice to send a PDF.

A ``\\u`` character is followed by ``\\uc`` characters of fallback that a reader knowing
Unicode skips; as the specification says, a control word, a control symbol and a ``\\'hh`` each
count as one, and a brace ends the skip. A control inside the fallback of an instruction or a
property, or a word that changes the reading (``\\u``, ``\\uc``, ``\\fldinst``, ``\\sp``...),
is refused: readers that count differently would read different names. A parameter beyond 32
bits (or of more than 10 digits) is refused, so that no reader wraps it into another value.

The file is read in chunks: only an unfinished control word is carried over to the next one.
"""

from __future__ import annotations

import re
from typing import NoReturn

from django.utils.translation import gettext as _

from records.rtf_words import (
    ALLOWED,
    FIELDS,
    HYPERLINK_SWITCHES,
    HYPERLINK_SWITCHES_WITH_ARGUMENT,
    SHAPE_PROPERTIES,
    SHAPE_TEXTS,
    STARRED,
    WORD_DATA,
)
from records.upload_errors import RejectedFile, Upload
from records.web_links import is_web_or_mail_link

CHUNK = 64 * 1024
MAX_WORD_LETTERS = 32  # the specification's limit; a longer "word" is no RTF
MAX_DEPTH = 100  # group nesting; deeper is no letter's, and some readers overflow their stack
MAX_CARRY = MAX_WORD_LETTERS + 16  # a word, its parameter and its space
MAX_INSTRUCTION = 2048  # a field instruction is a line, not a document
MAX_PROPERTY_NAME = 64  # the longest property name of the specification has 28 letters
MAX_PROPERTY_VALUE = 1024  # a shape's name or alternative text; numbers are much shorter
# \listoverridecount is 0, 1 or 9 in the specification; 25, or a negative count that a
# reader wraps to it, overflowed Word (CVE-2014-1761).
LIST_OVERRIDES = range(10)
# A parameter is a signed 16-bit number in the specification, but Word writes 32-bit ones
# (\rsid, \insrsid): a 32-bit range, and no more than 10 digits read at all, so that no
# reader's own integer wraps a huge or negative value into an allowed one
# (\listoverridecount-4294967271 is 25 in 32 bits).
PARAMETER_RANGE = range(-(2**31), 2**31)
MAX_PARAMETER_DIGITS = 10
# Case-folded names: a property's name read in any case is the allowed one or no property.
PROPERTY_NAMES = {name.casefold(): name for name in SHAPE_PROPERTIES}
NUMBER = re.compile(r"-?\d{1,10}")
# In a property value: a Windows path or share (a backslash, or "//" of \\server written with
# slashes, or of any address) or a file: URL, which Word would open with the reader's account.
LINK_LIKE = re.compile(r"\\|//|file:", re.IGNORECASE)
# Symbols of the specification: \\ \{ \} \~ \- \_ \: \| \* and a line break (a paragraph).
CONTROL_SYMBOLS = frozenset(b"\\{}~-_:|*\r\n")
BACKSLASH = ord("\\")
# Words whose only check is being allowed: the others change the reading (see _Reader.word).
SPECIAL_WORDS = frozenset(
    {"fldinst", "u", "uc", "tab", "emspace", "enspace", "sp", "sn", "sv", "listoverridecount"}
)
# Words that change how what follows is read: in a \u's fallback, a reader that skips them
# and one that does not (or this check) would read the rest differently.
NOT_IN_FALLBACK = frozenset({"fldinst", "u", "uc", "sp", "sn", "sv"})
PLAIN_WORDS = frozenset(word.encode("ascii") for word in ALLOWED - SPECIAL_WORDS)
# What a property's name or value may hold besides text: a Unicode character and its fallback.
PROPERTY_WORDS = frozenset({"u", "uc"})
TRAILER = b" \t\r\n\x00"  # what may follow the last brace (WordPad ends its files with a NUL)

TOKEN = re.compile(
    rb"\\(?P<word>[a-zA-Z]+)(?P<param>-?\d+)?(?P<space> )?"
    rb"|\\'(?P<hex>[0-9a-fA-F]{2})"
    rb"|\\(?P<symbol>[^a-zA-Z'])"
    rb"|(?P<brace>[{}])"
    rb"|(?P<text>[^\\{}]+)"
)


class _Reader:
    """The state of one pass over the file: group depth, a pending ``\\*``, the text being
    captured (a field instruction, or a shape property's name or value), if any, and the name
    of the shape property being read."""

    def __init__(self) -> None:
        self.depth = 0
        self.closed = False  # the outermost group has ended
        self.star = False
        self.capture: list[str] | None = None
        self.capture_kind = ""  # "fldinst", "sn" or "sv"
        self.capture_depth = 0
        self.captured = 0  # characters captured so far
        self.strict = False  # capturing a property: no word but \u and \uc
        self.property: str | None = None  # the name of the \sp group being read
        self.property_depth = 0
        # After \uN a reader skips the next \ucN characters (the fallback for readers without
        # Unicode); \uc is scoped by groups. Decoding as a reader does keeps a field's name
        # from reading differently here and there.
        self.unicode_skip = [1]
        self.to_skip = 0

    def feed(self, buffer: bytes, *, final: bool) -> bytes:
        """Read the tokens of ``buffer``; give back the unfinished end to read with the next
        chunk."""
        position, end = 0, len(buffer)
        for match in TOKEN.finditer(buffer):
            start = match.start()
            if start != position:  # nothing matched at position: a backslash cut or astray
                break
            at_end = not final and match.end() == end and end - start <= MAX_CARRY
            if at_end and buffer[start] == BACKSLASH:
                return buffer[start:]  # a control word may go on in the next chunk
            self.token(match.groups())
            position = match.end()
        if position == end:
            return b""
        if not final and end - position <= MAX_CARRY:
            return buffer[position:]  # "\" or "\'h" at the end of the chunk
        _damaged()  # a backslash at the very end, or \' without two hex digits

    def token(self, groups: tuple[bytes | None, ...]) -> None:
        word, param, _space, hexa, symbol, brace, text = groups
        if self.closed and (text is None or text.strip(TRAILER)):
            _damaged()  # anything after the last brace: data appended behind the document
        if param is not None and len(param) >= MAX_PARAMETER_DIGITS:  # shorter ones fit
            _check_parameter(word, param)
        if word is not None:
            if (
                self.depth
                and not self.star
                and not self.strict
                and not self.to_skip
                and word in PLAIN_WORDS
            ):
                return  # the common case, nothing more to check
            self.word(word.decode("ascii"), param)
        elif hexa is not None:
            self.expect_no_star()
            char = bytes.fromhex(hexa.decode("ascii")).decode("cp1252", "replace")
            self.add_text(char, skippable=True)
        elif symbol is not None:
            self.symbol(symbol[0])
        elif brace == b"{":
            self.expect_no_star()
            self.to_skip = 0
            self.depth += 1
            self.unicode_skip.append(self.unicode_skip[-1])
            if self.depth > MAX_DEPTH:
                _damaged()
        elif brace == b"}":
            self.expect_no_star()
            self.to_skip = 0
            self.close_group()
        elif text is not None:
            text = text.replace(b"\r", b"").replace(b"\n", b"")
            if text and not self.closed:
                self.expect_no_star()
                if self.capture is not None or self.to_skip:
                    self.add_text(text.decode("ascii"), skippable=True)  # 7-bit: file_types
        else:  # TOKEN has no other alternative: a match that is none of them is no RTF of ours
            _damaged()

    def word(self, name: str, param: bytes | None) -> None:
        starred, self.star = self.star, False
        if name in WORD_DATA:
            _refuse_word_data(("\\*\\" if starred else "\\") + name)
        if starred and name not in STARRED:
            _refuse_word("\\*\\" + name[:MAX_WORD_LETTERS])
        if len(name) > MAX_WORD_LETTERS or name not in ALLOWED:
            _refuse_word("\\" + name[:MAX_WORD_LETTERS])
        if self.depth == 0:
            _damaged()  # every word lives inside the document's group
        if self.to_skip:
            self.skip_control("\\" + name, changes_reading=name in NOT_IN_FALLBACK)
        if self.strict and name not in PROPERTY_WORDS:
            _refuse_shape(self.property or "\\" + name)  # a picture or a group in a value
        if name in ("fldinst", "sn", "sv"):
            self.start_capture(name)
        elif name == "sp":
            self.property, self.property_depth = None, self.depth
        elif name == "listoverridecount" and param and int(param) not in LIST_OVERRIDES:
            _refuse_word("\\listoverridecount" + param.decode("ascii"))
        elif name == "u" and param:
            self.add_text(chr(int(param) % 0x10000))
            self.to_skip = self.unicode_skip[-1]
        elif name == "uc" and param:
            self.unicode_skip[-1] = max(0, int(param))
        elif name in ("tab", "emspace", "enspace"):
            self.add_text(" ")

    def symbol(self, char: int) -> None:
        if char not in CONTROL_SYMBOLS:
            _refuse_word("\\" + chr(char))
        if self.to_skip:  # skipped by a reader that knows \u; read by this check all the same
            self.skip_control("\\" + chr(char))
            if char != ord("*"):
                self.expect_no_star()
                return
        if char == ord("*"):
            self.expect_no_star()
            self.star = True
            return
        self.expect_no_star()
        if char in b"\\{}":
            self.add_text(chr(char), skippable=True)
        elif char == ord("~"):
            self.add_text(" ", skippable=True)

    def skip_control(self, found: str, *, changes_reading: bool = False) -> None:
        """A control word or symbol in a \\u's fallback counts as one skipped character (the
        specification). Inside a field instruction or a property it is ambiguous (a reader
        that skips it and one that does not read different names), and so is a word that
        changes the reading anywhere: refused."""
        self.to_skip -= 1
        if self.capture is not None:
            if self.capture_kind == "fldinst":
                _refuse_field(found)
            _refuse_shape(self.property or found)
        if changes_reading:
            _refuse_word(found)

    def start_capture(self, kind: str) -> None:
        if self.capture is not None:  # a field inside an instruction computes it
            if kind == "fldinst":
                _refuse_field("fldinst")
            _refuse_shape(self.property or "\\" + kind)
        self.capture, self.capture_kind, self.capture_depth = [], kind, self.depth
        self.captured = 0
        self.strict = kind != "fldinst"

    def close_group(self) -> None:
        if self.depth == 0:
            _damaged()
        if self.capture is not None and self.depth == self.capture_depth:
            text, kind = "".join(self.capture), self.capture_kind
            self.capture, self.strict = None, False
            if kind == "fldinst":
                _check_field(text)
            elif kind == "sn":
                self.property = _property_name(text)
            else:
                _check_property_value(self.property, text)
        if self.depth == self.property_depth:
            self.property, self.property_depth = None, 0
        self.depth -= 1
        self.unicode_skip.pop()
        self.closed = self.depth == 0

    def add_text(self, text: str, *, skippable: bool = False) -> None:
        if skippable and self.to_skip:
            skipped = min(self.to_skip, len(text))
            self.to_skip -= skipped
            text = text[skipped:]
        if self.capture is not None:
            self.capture.append(text)
            self.captured += len(text)
            if self.capture_kind == "fldinst":
                if self.captured > MAX_INSTRUCTION:
                    _refuse_field("?")
            elif self.captured > (
                MAX_PROPERTY_NAME if self.capture_kind == "sn" else MAX_PROPERTY_VALUE
            ):
                _refuse_shape(self.property or "?")

    def expect_no_star(self) -> None:
        """``\\*`` marks the word right after it; anything else there is a trick."""
        if self.star:
            _refuse_word("\\*")


def check_rtf(fileobj: Upload) -> None:
    """Raise ``RejectedFile`` unless the RTF file holds only allowed words and fields."""
    reader = _Reader()
    carry = b""
    fileobj.seek(0)
    while chunk := fileobj.read(CHUNK):
        carry = reader.feed(carry + chunk, final=False)
    reader.feed(carry, final=True)
    if not reader.closed or reader.star:
        _damaged()


def _check_parameter(word: bytes | None, param: bytes) -> None:
    digits = param.lstrip(b"-")
    if len(digits) > MAX_PARAMETER_DIGITS or int(param) not in PARAMETER_RANGE:
        _refuse_word("\\" + (word or b"").decode("ascii")[:MAX_WORD_LETTERS] + param[:12].decode())


def _check_field(instruction: str) -> None:
    words = instruction.split()
    kind = words[0].upper() if words else ""
    if kind not in FIELDS:
        _refuse_field(kind)
    if kind == "HYPERLINK":
        target = _hyperlink_target(instruction.split(None, 1)[1] if len(words) > 1 else "")
        if target is not None and not is_web_or_mail_link(target):
            _refuse_field(kind)


def _property_name(text: str) -> str:
    """The allowed property ``text`` names, or a refusal."""
    name = PROPERTY_NAMES.get(text.strip().casefold())
    if name is None:
        _refuse_shape(text.strip()[:MAX_PROPERTY_NAME] or "?")
    return name


def _check_property_value(name: str | None, text: str) -> None:
    if name is None:
        _refuse_shape("\\sv")  # a value without its name: no drawing property
    value = text.strip()
    if LINK_LIKE.search(value):
        _refuse_shape(name)
    if name not in SHAPE_TEXTS and value and not NUMBER.fullmatch(value):
        _refuse_shape(name)  # every other property holds a number


def _hyperlink_target(arguments: str) -> str | None:
    """The address of ``HYPERLINK "address" \\l "anchor" ...``: the first argument that is
    neither a switch nor a switch's argument; None for a link within the document. A bare
    argument starting with a backslash that is no switch (``\\\\server\\share``) is the
    address, so that it is checked like one."""
    tokens = re.findall(r'"([^"]*)"|(\S+)', arguments)
    skip_next = False
    for quoted, bare in tokens:
        if skip_next:
            skip_next = False
        elif bare in HYPERLINK_SWITCHES:
            skip_next = bare in HYPERLINK_SWITCHES_WITH_ARGUMENT
        else:
            return quoted or bare
    return None


def _refuse_word(found: str) -> NoReturn:
    raise RejectedFile(
        "rtf_control_word",
        _(
            "This RTF file contains something other than formatted text (%(found)s), such as "
            "an embedded object, which is not accepted. Save the document as a PDF, then send "
            "it again."
        )
        % {"found": found},
    )


def _refuse_word_data(found: str) -> NoReturn:
    raise RejectedFile(
        "rtf_control_word",
        _(
            "This RTF file holds data that Microsoft Word adds to its files (%(found)s) and "
            "that is not accepted. Save the document as a PDF, then send it again."
        )
        % {"found": found},
    )


def _refuse_shape(found: str) -> NoReturn:
    raise RejectedFile(
        "rtf_shape",
        _(
            "This RTF file contains a drawing or picture property that is not accepted "
            "(%(found)s): only simple shapes and text boxes are, without links or embedded "
            "pictures. Save the document as a PDF, then send it again."
        )
        % {"found": found},
    )


def _refuse_field(kind: str) -> NoReturn:
    raise RejectedFile(
        "rtf_field",
        _(
            "This RTF file contains a field that inserts or opens another file or program "
            "(%(found)s), which is not accepted. Save the document as a PDF, then send it again."
        )
        % {"found": kind or "?"},
    )


def _damaged() -> NoReturn:
    raise RejectedFile("damaged", _("This RTF file is damaged or incomplete."))

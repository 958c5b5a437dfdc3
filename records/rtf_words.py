"""The RTF control words an uploaded RTF may use: formatting and text, nothing that embeds.

Chosen from the RTF 1.9.1 specification's formatting groups and from what LibreOffice Writer,
Word and WordPad write for a plain letter (fonts, colours, styles, lists, tables, headers,
footers, footnotes, page setup, document information, bookmarks, web links, PNG and JPEG
pictures). Left out on purpose, so refused wherever they appear: embedded objects (``\\object``,
``\\objdata``, ``\\objemb``, ``\\objclass`` and every ``\\obj...``), raw binary (``\\bin``), Word's
OLE data store (``\\datastore``), form fields and their macros (``\\formfield``,
``\\datafield``), attached templates (``\\template``, fetched from anywhere), XSL transforms
(``\\xform``), embedded fonts (``\\fontemb``, ``\\fontfile``), metafile and bitmap pictures
(``\\wmetafile``, ``\\emfblip``, ``\\macpict``, ``\\pmmetafile``, ``\\dibitmap``, ``\\wbitmap``:
metafiles are code-like records, and Word writes its pictures as PNG too), old drawing objects,
encapsulated HTML (``\\htmltag``, ``\\mhtmltag``), document variables and passwords. Word's theme
(``\\themedata``, a ZIP archive Word unpacks and parses) and its colour-scheme mapping (an XML
document) are opaque containers as well: refused, like ``\\datastore``, with ``WORD_DATA``'s
message. Control words are case-sensitive: ``\\OBJECT`` is no formatting word, so it is refused
like any unknown word.

Shapes (``\\shp``, ``\\sp``) are allowed, but each property a shape or a picture carries
(``{\\sp{\\sn name}{\\sv value}}``) must be one of ``SHAPE_PROPERTIES``: plain geometry,
position, wrapping, text-box margins, fill and line colours and styles, shadows. Left out, so
refused: the arrays (``pFragments``, the carrier of CVE-2010-3333's overflow, ``pVerticies``,
``pSegmentInfo``, ``pWrapPolygonVertices``, ``pGuides``...: free-form geometry, which simple
shapes and text boxes do not need), every picture property (``pib``, ``pibName``, ``pibFlags``:
a picture embedded or linked from a file or a share, ``fillBlip*``, ``lineFillBlip*``), WordArt
(``gtext*``), links (``pihl*``, ``wzTooltip``), ``metroBlob`` and any name not listed. Names are
matched without regard to case; their values are checked in ``rtf_checks``.
"""

from __future__ import annotations


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words that may follow "\*" (an "ignorable" destination: a reader that does not know it skips
# it, which is why hostile files hide their payload in one). Each is also a control word below.
STARRED = _words(
    """
    generator falt panose fname xmlnstbl xmlns rsidtbl
    latentstyles defchp defpap listtable listoverridetable listpicture pgdsctbl pgdsc userprops
    ftnsep ftnsepc aftnsep aftnsepc bkmkstart bkmkend fldinst shppict blipuid picprop shpinst
    pnseclvl ud company operator cs ts revtbl wgrffmtfilter mmathPr hyphen soutlvl
    oldcprops oldpprops oldsprops oldtprops atnid atnauthor annotation atndate atnparent
    atnref atnicn atntime background nesttableprops listtext pntext tc tcl keywords comment
    doccomm title subject author manager category pgdscno moddate
    """
)

ALLOWED = STARRED | _words(
    r"""
    rtf ansi mac pc pca ansicpg uc u upr deff adeff deflang deflangfe adeflang
    stshfdbch stshfloch stshfhich stshfbi nouicompat noqfpromote fet themelang themelangfe
    themelangcs

    fonttbl f fnil froman fswiss fmodern fscript fdecor ftech fbidi fcharset fprq cpg
    flomajor fhimajor fdbmajor fbimajor flominor fhiminor fdbminor fbiminor

    colortbl red green blue ctint cshade cmaindarkone cmainlightone cmaindarktwo
    cmainlighttwo caccentone caccenttwo caccentthree caccentfour caccentfive caccentsix
    chyperlink cfollowedhyperlink cbackgroundone cbackgroundtwo ctextone ctexttwo

    stylesheet s sbasedon snext slink sautoupd shidden slocked spersonal scompose sreply
    sunhideused sqformat spriority ssemihidden styrsid additive tsrowd tscellwidth
    tscellwidthfts tsvertalt tsvertalc tsvertalb tsbrdrt tsbrdrb tsbrdrl tsbrdrr tsbrdrh
    tsbrdrv tsbrdrdgl tsbrdrdgr tscellpaddt tscellpaddb tscellpaddl tscellpaddr
    tscellpaddft tscellpaddfb tscellpaddfl tscellpaddfr tscbandsh tscbandsv tsnowrap
    lsdstimax lsdlockeddef lsdsemihiddendef lsdunhideuseddef lsdqformatdef lsdprioritydef
    lsdlockedexcept lsdqformat lsdpriority lsdsemihidden lsdunhideused lsdlocked

    list listid listtemplateid listsimple listhybrid listrestarthdg listname listlevel
    levelstartat levelnfc levelnfcn leveljc leveljcn levelfollow levelold levelprev
    levelprevspace levelspace levelindent leveltext levelnumbers levellegal levelnorestart
    levelpicture levelpicturenosize lvltentative listoverride listoverridecount
    listoverridestartat listoverrideformat ls ilvl pn pnlvl pnlvlblt pnlvlbody pnlvlcont
    pnf pnfs pnindent pnsp pnstart pnhang pntxta pntxtb pndec pnucltr pnucrm pnlcltr
    pnlcrm pnord pnordt pncard pnqc pnql pnqr pnb pni pncaps pnscaps pnul pnuld pnuldb
    pnulnone pnulw pnstrike pncf pnrestart pnprev

    info version vern edmins nofpages nofwords nofchars nofcharsws id creatim revtim
    printim buptim yr mo dy hr min sec propname proptype staticval linkval

    rsid rsidroot insrsid charrsid pararsid sectrsid tblrsid delrsid
    mmathFont mbrkBin mbrkBinSub msmallFrac mdispDef mlMargin mrMargin mdefJc
    mwrapIndent mintLim mnaryLim

    paperw paperh psz margl margr margt margb gutter rtlgutter landscape facingp margmirror
    gutterprl deftab widowctrl hyphhotz hyphconsec hyphcaps hyphauto hyphlead hyphtrail
    hyphmax linestart fracwidth ftnbj ftnstart ftnrstcont ftnrestart ftnrstpg ftntj ftnnar
    ftnnalc ftnnauc ftnnrlc ftnnruc aenddoc aendnotes aftnbj aftntj aftnstart aftnrstcont
    aftnrestart aftnnar aftnnalc aftnnauc aftnnrlc aftnnruc endnotes enddoc viewkind
    viewscale viewzk viewbksp formshade noxlattoyen expshrtn noultrlspc dntblnsbdb
    nospaceforul horzdoc dghspace dgvspace dghorigin dgvorigin dghshow dgvshow dgmargin
    jcompress jexpand lnongrid nolnhtadjtbl nojkernpunct splytwnine ftnlytwnine htmautsp
    useltbaln alntblind lytcalctblwd lyttblrtgr lnbrkrule nobrkwrptbl snaptogridincell
    allowfieldendsel wrppunct asianbrkrule newtblstyruls nogrowautofit usenormstyforlist
    noindnmbrts felnbrelev nocxsptable indrlsweleven noafcnsttbl afelev utinl hwelev
    spltpgpar notcvasp notbrkcnstfrctbl notvatxbx krnprsnet cachedcolbal trackmoves
    trackformatting donotembedsysfont relyonvml donotembedlingdata grfdocevents validatexml
    showplaceholdtext ignoremixedcontent saveinvalidxml showxmlerrors pgbrdrhead pgbrdrfoot
    nofeaturethrottle ilfomacatclnup ltrdoc rtldoc truncex nocolbal
    sprstsp sprsspbf sprslnsp sprstsm sprsbsp otblrul transmf swpbdr brkfrm
    defformat revprop revbar revisions

    sectd sbknone sbkcol sbkpage sbkeven sbkodd cols colsx colno colsr colw linebetcol
    pgwsxn pghsxn marglsxn margrsxn margtsxn margbsxn guttersxn lndscpsxn titlepg headery
    footery pgnstarts pgnstart pgncont pgnrestart pgndec pgnucrm pgnlcrm pgnucltr pgnlcltr
    pgnx pgny pgnhn pgnhnsh pgnhnsp pgnhnsc pgnhnsm pgnhnsn vertalt vertalc vertalj vertalb
    vertal sectunlocked sectdefaultcl sftnbj sftntj sftnnar sftnnalc sftnnauc sftnnrlc
    sftnnruc sftnrstcont sftnrestart sftnrstpg sftnstart saftnnar saftnnalc saftnnauc
    saftnnrlc saftnnruc saftnrstcont saftnrestart saftnstart sectlinegrid sectspecifyl
    sectspecifycl sectspecifygen endnhere ltrsect rtlsect stextflow linex linemod
    linerestart lineppage linecont pgbrdropt pgbrdrt pgbrdrb pgbrdrl pgbrdrr pgbrdrsnap
    pgdscuse pgdscnxt

    header footer headerl headerr headerf footerl footerr footerf

    pard par plain ql qr qc qj qd qk fi li ri lin rin sb sa sl slmult sbauto saauto keep
    keepn widctlpar nowidctlpar hyphpar intbl itap ltrpar rtlpar outlinelevel pagebb noline
    nowwrap faauto faroman fahang facenter fafixed fafont contextualspace adjustright
    aspalpha aspnum nosnaplinegrid wrapdefault wraparound wraptight wrapthrough tx tqr tqc
    tqdec tldot tlmdot tlhyph tlul tlth tleq tb brdrt brdrb brdrl brdrr brdrbtw brdrbar box
    brdrs brdrth brdrsh brdrdb brdrdot brdrdash brdrdashsm brdrhair brdrinset brdroutset
    brdrtriple brdrwavy brdrw brdrcf brsp brdrnone brdrnil brdrtbl brdrframe brdremboss
    brdrengrave brdrdashd brdrdashdd brdrdashdotstr brdrthtnsg brdrtnthsg brdrtnthtnsg
    brdrthtnmg brdrtnthmg brdrtnthtnmg brdrthtnlg brdrtnthlg brdrtnthtnlg brdrwavydb
    shading cfpat cbpat bghoriz bgvert bgfdiag bgbdiag bgcross bgdcross bgdkhoriz
    bgdkvert bgdkfdiag bgdkbdiag bgdkcross bgdkdcross line page column sect lisa lisb
    yts dfrstart dfrstop dfrxst dfrauth dfrdate

    b i ul ulnone uld uldb ulw ulth uldash uldashd uldashdd ulhair ulwave ulldash ulthd
    ulthdash ulthdashd ulthdashdd ululdbwave ulthldash ulc strike striked caps scaps v f fs
    cf cb highlight chcbpat chcfpat chshdng chbrdr up dn sub super nosupersub expnd expndtw
    kerning charscalex lang langfe langnp langfenp noproof loch hich dbch af afs ab ai
    alang acf aul aulnone ashad aoutl acaps ascaps astrike adn aup aexpnd afs rtlch ltrch
    outl shad embo impr cgrid fcs webhidden animtext accnone accdot acomma acircle
    accunderdot deleted revised revauth revauthdel revdttm revdttmdel crauth crdate
    cs

    tab emdash endash emspace enspace qmspace bullet lquote rquote ldblquote rdblquote zwj
    zwnj zwbo zwnbo ltrmark rtlmark chdate chdpl chdpa chtime chpgn sectnum chftn chatn
    chftnsep chftnsepc softline softpage softcol softlheight

    trowd trgaph trleft trqc trql trqr trrh trhdr trkeep trkeepfollow cellx clvertalt
    clvertalc clvertalb clbrdrt clbrdrb clbrdrl clbrdrr clcbpat clcfpat clshdng clwWidth
    clftsWidth clpadl clpadr clpadt clpadb clpadfl clpadfr clpadft clpadfb clspl clspr
    clspt clspb clspfl clspfr clspft clspfb clmgf clmrg clvmgf clvmrg clNoWrap cltxlrtb
    cltxtbrl cltxbtlr cltxlrtbv cltxtbrlv clhidemark clFitText cldglu cldgll clcbpatraw
    clcfpatraw clshdngraw cell row nestcell nestrow nonesttables trbrdrt trbrdrb trbrdrl
    trbrdrr trbrdrh trbrdrv trftsWidth trwWidth trftsWidthB trwWidthB trftsWidthA trwWidthA
    trautofit trpaddl trpaddr trpaddt trpaddb trpaddfl trpaddfr trpaddft trpaddfb trspdl
    trspdr trspdt trspdb trspdfl trspdfr trspdft trspdfb tblind tblindtype tbllkhdrrows
    tbllklastrow tbllkhdrcols tbllklastcol tbllknocolband tbllknorowband tbllkborder
    tbllkshading tbllkfont tbllkcolor tbllkbestfit lastrow irow irowband taprtl rtlrow
    ltrrow trcbpat trcfpat trshdng trpat tphmrg tphpg tphcol tposx tposxc tposxi tposxo
    tposxl tposxr tposy tposyc tposyt tposyb tposyil tposyin tposyout tpvmrg tpvpg tpvpara
    tdfrmtxtLeft tdfrmtxtRight tdfrmtxtTop tdfrmtxtBottom tabsnoovrlp trbgdkcross

    absw absh abslock phmrg phpg phcol posx posxc posxi posxo posxl posxr posy posyc posyt
    posyb posyil posyin posyout pvmrg pvpg pvpara dxfrtext dfrmtxtx dfrmtxty absnoovrlp
    nowrap overlay frmtxlrtb frmtxtbrl frmtxbtlr frmtxlrtbv frmtxtbrlv dropcapli dropcapt

    field fldrslt fldedit fldlock fldpriv flddirty bkmkcolf bkmkcoll

    pict picw pich picwgoal pichgoal picscalex picscaley piccropl piccropr piccropt
    piccropb pngblip jpegblip bliptag blipupi defshp picscaled nonshppict
    sp sn sv shp shprslt shptxt shpleft shptop shpright shpbottom shpz shpfhdr shpbxpage
    shpbxmargin shpbxcolumn shpbxignore shpbypage shpbymargin shpbypara shpbyignore shpwr
    shpwrk shpfblwtxt shplockanchor shplid

    footnote ftnalt
    """
)

# Word's opaque containers: refused with the advice that fits a Word file (send a PDF).
WORD_DATA = _words("datastore themedata colorschememapping")

# Shape properties whose value is a number (a length, a colour, an angle, a flag, an enum).
SHAPE_NUMBERS = _words(
    """
    shapeType rotation fFlipH fFlipV fLockAspectRatio fLockPosition fLockRotation fLockAgainstSelect
    fLockAgainstGrouping fLockCropping fLockVerticies fLockText fLockAdjustHandles
    geoLeft geoTop geoRight geoBottom adjustValue adjust2Value adjust3Value adjust4Value
    adjust5Value adjust6Value adjust7Value adjust8Value adjust9Value adjust10Value
    relLeft relTop relRight relBottom relRotation fRelFlipH fRelFlipV
    groupLeft groupTop groupRight groupBottom
    posh posrelh posv posrelv pctHoriz pctVert pctHorizPos pctVertPos sizerelh sizerelv
    fLayoutInCell fAllowOverlap fBehindDocument fHidden fPrint fPseudoInline fUseShapeAnchor
    dhgt dxWrapDistLeft dyWrapDistTop dxWrapDistRight dyWrapDistBottom fPreferRelativeResize
    txflTextFlow dxTextLeft dyTextTop dxTextRight dyTextBottom WrapText anchorText
    fFitShapeToText fFitTextToShape fRotateText fAutoTextMargin fSelectText lTxid cdirFont
    scaleText
    fFilled fillType fillColor fillOpacity fillBackColor fillBackOpacity fillAngle fillFocus
    fillToLeft fillToTop fillToRight fillToBottom fillShadeType fillShape fillUseRect
    fLine lineColor lineOpacity lineBackColor lineWidth lineStyle lineDashing lineType
    lineJoinStyle lineEndCapStyle lineMiterLimit lineStartArrowhead lineEndArrowhead
    lineStartArrowWidth lineStartArrowLength lineEndArrowWidth lineEndArrowLength
    fArrowheadsOK fLineOpaque fHitTestFill fHitTestLine fNoFillHitTest fNoLineDrawDash
    fRecolorFillAsPicture fLineRecolorFillAsPicture fLineUseShapeAnchor fEditedWrap
    fFillOK fLineOK fShadowOK f3DOK hspNext pctHR
    fShadow shadowType shadowColor shadowOpacity shadowOffsetX shadowOffsetY
    shadowSecondOffsetX shadowSecondOffsetY fShadowObscured
    pictureGray pictureBiLevel pictureContrast pictureBrightness
    cropFromTop cropFromBottom cropFromLeft cropFromRight
    fStandardHR fHorizRule fNoshadeHR alignHR dxHeightHR dxWidthHR
    """
)
# Shape properties whose value is text: a name and an alternative text, never a link.
SHAPE_TEXTS = _words("wzName wzDescription")
SHAPE_PROPERTIES = SHAPE_NUMBERS | SHAPE_TEXTS

# Fields that compute text from the document itself (page numbers, dates, cross-references).
FIELDS = frozenset(
    {
        "PAGE",
        "NUMPAGES",
        "SECTIONPAGES",
        "SECTION",
        "DATE",
        "TIME",
        "CREATEDATE",
        "SAVEDATE",
        "PRINTDATE",
        "PAGEREF",
        "REF",
        "NOTEREF",
        "SEQ",
        "TOC",
        "SYMBOL",
        "HYPERLINK",
    }
)
HYPERLINK_SWITCHES_WITH_ARGUMENT = frozenset({"\\l", "\\o", "\\t"})
HYPERLINK_SWITCHES = HYPERLINK_SWITCHES_WITH_ARGUMENT | {"\\m", "\\n", "\\h"}

"""The SPAN 4 XML reader and writer: fields, roots, round trips and one-line errors."""

from __future__ import annotations

import gzip
import itertools
import xml.etree.ElementTree as ET
import zipfile
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from crossmargin.core.errors import InputError
from crossmargin.methods.span import parser
from crossmargin.methods.span.model import (
    CALL,
    FUTURE,
    OPEN_PERIOD,
    OPTION,
    PortfolioType,
    RiskParameters,
    Tier,
    period_bounds,
    pick_rate,
)
from crossmargin.methods.span.parser import read_risk_parameters
from crossmargin.methods.span.writer import write_risk_parameters

DATA = Path(__file__).parents[1] / "data" / "span"

ARRAY = "".join(f"<a>{v}</a>" for v in range(16))
FUT = f"<fut><cId>1</cId><pe>202609</pe><p>10</p><ra><r>1</r>{ARRAY}<d>1</d></ra></fut>"


def _write(tmp_path: Path, body: str, root: str = "spanFile") -> Path:
    path = tmp_path / "file.spn"
    path.write_text(f'<?xml version="1.0"?><{root}>{body}</{root}>', encoding="utf-8")
    return path


def _futures(contracts: str, *, extra: str = "") -> str:
    return (f"<pointInTime><date>20260105</date><clearingOrg><ec>T</ec>{extra}"
            f"<exchange><exch>T</exch><futPf><pfId>7</pfId><pfCode>ES</pfCode>"
            f"<currency>USD</currency><cvf>50</cvf>{contracts}</futPf></exchange>"
            f"</clearingOrg></pointInTime>")


def test_reads_the_intra_example_file() -> None:
    risk = read_risk_parameters(DATA / "cme_intra.spn")
    assert risk.business_date == date(2026, 1, 15)
    assert risk.clearing_org == "CME"
    assert risk.maintenance_rate() == 1
    assert len(risk.sha256) == 64
    c = risk.contracts
    assert len(c) == 3
    assert c.period.tolist() == [202602, 202603, 202604]
    assert c.kind.tolist() == [FUTURE] * 3
    assert c.cvf.tolist() == [50.0] * 3
    assert c.price_scan.tolist() == [500.0, 500.0, 750.0]
    assert c.arrays[2].tolist()[-2:] == [-525.0, 525.0]
    (cc,) = risk.combined
    assert cc.code == "X" and [t.number for t in cc.intra_tiers] == [1, 2, 3]
    assert [s.priority for s in cc.intra_spreads] == [1, 2, 3]
    assert cc.intra_spreads[1].legs[1].tier == 3 and cc.intra_spreads[1].legs[1].side == -1
    assert risk.portfolio_cc().tolist() == [0]
    points = risk.scan_points
    assert points is not None
    assert points.price[2] == pytest.approx(1 / 3) and points.price[14] == 2.0
    assert points.weight[14] == 0.35 and points.paired[0] == 1 and points.paired[15] == -1
    assert points.label(15) == "scenario 16: price down 2 x range, vol unchanged (35% covered)"


def test_reads_options_in_series_with_their_underlying() -> None:
    risk = read_risk_parameters(DATA / "mcmillan_sp.spn")
    c = risk.contracts
    assert c.kind.tolist() == [FUTURE, OPTION]
    assert c.right[1] == CALL and c.strike[1] == 410.0 and c.delta[1] == 0.6
    assert (c.und_pf[1], c.und_cid[1]) == (1, 1)
    assert risk.tier_periods().tolist() == [199212, 199212]
    assert [p.type for p in risk.portfolios] == [PortfolioType.FUT, PortfolioType.OOF]
    assert risk.portfolios[1].value_method == "FUT"
    assert risk.scan_points is None
    assert risk.combined[0].name == "S&P 500"


@pytest.mark.parametrize("name", ["cme_intra.spn", "cme_inter.spn", "mcmillan_sp.spn"])
def test_write_then_read_gives_the_same_model(tmp_path: Path, name: str) -> None:
    risk = read_risk_parameters(DATA / name)
    back = read_risk_parameters(write_risk_parameters(risk, tmp_path / name))
    _assert_same(risk, back)


@pytest.mark.parametrize("name", ["cme_intra.spn", "cme_inter.spn", "mcmillan_sp.spn"])
@pytest.mark.parametrize("piece", [1, 7, 64, 1000])
def test_the_model_does_not_depend_on_where_pieces_end(name: str, piece: int,
                                                       monkeypatch: pytest.MonkeyPatch
                                                       ) -> None:
    """Pieces ending inside tags, texts and open portfolios leave the model as it is."""
    whole = read_risk_parameters(DATA / name)
    monkeypatch.setattr(parser, "FEED_BYTES", piece)
    _assert_same(whole, read_risk_parameters(DATA / name))


def test_reads_zip_and_gzip_archives_as_their_content(tmp_path: Path) -> None:
    """CME publishes ``.spn.zip``; the archive gives the same model, digest included."""
    plain = read_risk_parameters(DATA / "cme_inter.spn")
    zipped = tmp_path / "cme.20260105.s.spn.zip"
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(DATA / "cme_inter.spn", "cme.20260105.s.spn")
    gzipped = tmp_path / "cme_inter.spn.gz"
    gzipped.write_bytes(gzip.compress((DATA / "cme_inter.spn").read_bytes()))
    for path in (zipped, gzipped):
        risk = read_risk_parameters(path)
        _assert_same(plain, risk)
        assert risk.sha256 == plain.sha256 and risk.source == str(path)


def test_bad_archives_name_the_file(tmp_path: Path) -> None:
    two = tmp_path / "two.zip"
    with zipfile.ZipFile(two, "w") as archive:
        archive.writestr("a.spn", "<spanFile/>")
        archive.writestr("b.spn", "<spanFile/>")
    with pytest.raises(InputError, match=r"two\.zip.*exactly one SPAN file.*holds 2"):
        read_risk_parameters(two)
    cut = tmp_path / "cut.spn.gz"
    cut.write_bytes(gzip.compress((DATA / "cme_inter.spn").read_bytes())[:200])
    with pytest.raises(InputError, match=r"cut\.spn\.gz.*corrupt archive"):
        read_risk_parameters(cut)
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04" + b"\x00" * 60)
    with pytest.raises(InputError, match=r"broken\.zip.*corrupt archive"):
        read_risk_parameters(broken)
    empty = tmp_path / "empty.zip"
    zipfile.ZipFile(empty, "w").close()
    with pytest.raises(InputError, match=r"empty\.zip.*exactly one SPAN file.*holds 0"):
        read_risk_parameters(empty)


def _zip_with_header(path: Path, *, flags: int = 0, method: int | None = None) -> Path:
    """A one-member zip whose member claims other flags or another compression method."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.write(DATA / "cme_inter.spn", "a.spn")
    data = bytearray(path.read_bytes())
    for signature, at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # local, central
        start = data.index(signature)
        data[start + at] |= flags
        if method is not None:
            data[start + at + 2:start + at + 4] = method.to_bytes(2, "little")
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize(("flags", "method", "message"), [
    (1, None, "a.spn: the zip member is encrypted"),
    (0, 99, "a.spn=99: unsupported zip compression method"),
    (0, zipfile.ZIP_LZMA, "corrupt archive"),
])
def test_unreadable_zip_members_name_the_file(tmp_path: Path, flags: int, method: int | None,
                                              message: str) -> None:
    path = _zip_with_header(tmp_path / "member.spn.zip", flags=flags, method=method)
    with pytest.raises(InputError, match=None) as err:
        read_risk_parameters(path)
    assert str(err.value).startswith(str(path)) and message in str(err.value), str(err.value)


def test_unknown_encoding_and_deep_nesting_are_input_errors(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.spn"
    bogus.write_text('<?xml version="1.0" encoding="bogus"?><spanFile/>')
    with pytest.raises(InputError, match=r"bogus\.spn: unknown encoding: bogus"):
        read_risk_parameters(bogus)
    deep = tmp_path / "deep.spn"
    deep.write_text("<spanFile>" + "<series>" * 50_000 + "</series>" * 50_000 + "</spanFile>")
    with pytest.raises(InputError, match=r"deep\.spn: elements nested too deeply"):
        read_risk_parameters(deep)


def test_handled_elements_are_dropped_as_they_complete(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch
                                                      ) -> None:
    """While a portfolio streams, its completed contracts leave the tree; its fields stay."""
    contracts = "".join(FUT.replace("<cId>1</cId>", f"<cId>{k}</cId>") for k in range(1, 41))
    path = _write(tmp_path, _futures(contracts))
    seen: list[int] = []
    drain = parser._Reader.drain

    def spy(self: parser._Reader, elem: ET.Element) -> None:
        drain(self, elem)
        seen.append(sum(1 for _ in elem.iter("fut")))

    monkeypatch.setattr(parser, "FEED_BYTES", 256)
    monkeypatch.setattr(parser._Reader, "drain", spy)
    risk = read_risk_parameters(path)
    assert risk.contracts.cid.tolist() == list(range(1, 41))
    assert risk.portfolios[0].code == "ES" and risk.portfolios[0].exchange == "T"
    assert len(seen) > 20 and max(seen) <= 1  # never more than the open contract


def _assert_same(a: RiskParameters, b: RiskParameters) -> None:
    for column in a.contracts.COLUMNS:
        x, y = getattr(a.contracts, column), getattr(b.contracts, column)
        assert np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), column
    assert a.portfolios == b.portfolios
    assert a.combined == b.combined
    assert a.inter_spreads == b.inter_spreads
    assert a.rate_definitions == b.rate_definitions
    assert a.conversions == b.conversions
    assert a.business_date == b.business_date and a.clearing_org == b.clearing_org
    if a.scan_points is None:
        assert b.scan_points is None
    else:
        assert b.scan_points is not None
        for field in ("price", "vol", "weight", "paired"):
            assert np.array_equal(getattr(a.scan_points, field), getattr(b.scan_points, field))


@pytest.mark.parametrize("root", ["spanFile", "spn"])
def test_accepts_the_published_roots(tmp_path: Path, root: str) -> None:
    risk = read_risk_parameters(_write(tmp_path, _futures(FUT), root))
    assert len(risk.contracts) == 1 and risk.portfolios[0].exchange == "T"
    assert risk.portfolios[0].pf_id == 7 and risk.contracts.cvf[0] == 50.0


def test_accepts_a_bare_clearing_org(tmp_path: Path) -> None:
    path = tmp_path / "org.xml"
    path.write_text("<clearingOrg><ec>Z</ec><exchange><exch>Z</exch><futPf>"
                    f"<pfCode>ES</pfCode>{FUT}</futPf></exchange></clearingOrg>")
    risk = read_risk_parameters(path)
    assert risk.clearing_org == "Z" and risk.business_date is None
    assert risk.portfolios[0].pf_id == 1 and risk.contracts.cid.tolist() == [1]


def test_physicals_and_currency_conversions(tmp_path: Path) -> None:
    body = ("<pointInTime><clearingOrg><curConv><fromCur>INR</fromCur><toCur>USD</toCur>"
            "<factor>0.0106</factor></curConv><exchange><phyPf><pfCode>NIFTY</pfCode>"
            f"<currency>INR</currency><phy><pe>00000000</pe><p>24000</p><ra>{ARRAY}</ra>"
            "</phy></phyPf></exchange></clearingOrg></pointInTime>")
    risk = read_risk_parameters(_write(tmp_path, body))
    assert risk.contracts.period.tolist() == [OPEN_PERIOD]
    assert risk.contracts.delta.tolist() == [1.0]
    assert risk.conversions[0].factor == 0.0106


def test_picks_the_maintenance_rate_among_several(tmp_path: Path) -> None:
    other = ARRAY.replace("<a>0</a>", "<a>99</a>")
    fut = (f"<fut><pe>202609</pe><scanRate><r>1</r><priceScan>5</priceScan></scanRate>"
           f"<scanRate><r>2</r><priceScan>6</priceScan></scanRate>"
           f"<ra><r>1</r>{other}</ra><ra><r>2</r>{ARRAY}</ra></fut>")
    rates = ("<pbRateDef><r>1</r><isM>0</isM></pbRateDef>"
             "<pbRateDef><r>2</r><isM>1</isM><isCust>1</isCust><acctType>S</acctType>"
             "</pbRateDef>")
    risk = read_risk_parameters(_write(tmp_path, _futures(fut, extra=rates)))
    assert risk.maintenance_rate() == 2
    assert risk.contracts.price_scan[0] == 6.0 and risk.contracts.arrays[0, 0] == 0.0


def test_period_legs_and_rates(tmp_path: Path) -> None:
    cc = ("<ccDef><cc>NIFTY</cc><dSpread><spread>1</spread><chargeMeth>F</chargeMeth>"
          "<rate><r>1</r><val>425</val></rate><pLeg><cc>NIFTY</cc><pe>20260630</pe><rs>A</rs>"
          "<i>1</i></pLeg><pLeg><pe>20260707</pe><rs>B</rs><i>1</i></pLeg></dSpread>"
          "<somTiers><tier><tn>0</tn><rate><val>0</val></rate></tier></somTiers></ccDef>")
    risk = read_risk_parameters(_write(tmp_path, _futures(FUT, extra=cc)))
    (spread,) = risk.combined[0].intra_spreads
    assert [leg.period for leg in spread.legs] == [20260630, 20260707]
    assert all(leg.cc == "NIFTY" for leg in spread.legs)
    assert pick_rate(spread.rates, 1, where="x") == 425.0
    assert risk.combined[0].som_tiers[0].rates == ((1, 0.0),)


def test_periods_cover_months_or_days() -> None:
    lo, hi = period_bounds(np.asarray([202609, 20260918, OPEN_PERIOD]))
    assert lo.tolist() == [20260901, 20260918, 0]
    assert hi.tolist() == [20260931, 20260918, 99_999_999]
    tier = Tier(number=1, start=202609, end=202612)
    assert tier.contains(np.asarray([20260918, 202612, 202701])).tolist() == [True, True,
                                                                              False]


@pytest.mark.parametrize(("contracts", "message"), [
    (FUT.replace("<a>3</a>", "<a>abc</a>"),
     "futPf[pfCode=ES]/fut[1]/ra/a[4]='abc': must be a finite number"),
    (FUT.replace("<a>3</a>", ""), "futPf[pfCode=ES]/fut[1]/ra: needs 16 values, got 15"),
    (FUT.replace("<a>3</a>", "<a>nan</a>"), "ra/a[4]='nan': must be a finite number"),
    (FUT + FUT.replace("<a>3</a>", "<a/>"), "futPf[pfCode=ES]/fut[2]/ra/a[4]: is required"),
    (FUT + FUT.replace("<a>15</a>", "<a>1e999</a>"),
     "fut[2]/ra/a[16]='1e999': must be a finite number"),
    (FUT.replace("<p>10</p>", "<p>nan(1)</p>"), "fut[1]/p='nan(1)': must be a finite number"),
    (FUT.replace("<pe>202609</pe>", "<pe>2026-09</pe>"),
     "futPf[pfCode=ES]/fut[1]/pe='2026-09': not a period (YYYYMM or YYYYMMDD)"),
    (FUT.replace("<pe>202609</pe>", "<pe>202613</pe>"),
     "pe='202613': not a period (YYYYMM or YYYYMMDD)"),
    (FUT.replace("<pe>202609</pe>", "<pe>20260\u00b2</pe>"),
     "pe='20260\u00b2': not a period (YYYYMM or YYYYMMDD)"),
    (FUT.replace("<pe>202609</pe>", ""), "futPf[pfCode=ES]/fut[1]/pe: is required"),
    (FUT.replace("<cId>1</cId>", "<cId>99999999999999999999</cId>"),
     "fut[1]/cId='99999999999999999999': out of the 64-bit integer range"),
    (FUT.replace("<p>10</p>", "<p>inf</p>"), "fut[1]/p='inf': must be a finite number"),
    (FUT.replace("<p>10</p>", "<p>nan</p>"), "fut[1]/p='nan': must be a finite number"),
    (FUT.replace("<ra>", "<scanRate><r>1</r><priceScan>-5</priceScan></scanRate><ra>"),
     "fut[1]/scanRate/priceScan='-5': must not be negative"),
    (FUT.replace("<fut>", "<opt><o>C</o><k>1</k>").replace("</fut>", "</opt>")
     .replace("<p>10</p>", "<p>-1</p>"), "futPf[pfCode=ES]/opt[1]/p='-1': must not be negative"),
    (FUT + FUT.replace("<fut>", "<opt><o>C</o>").replace("</fut>", "</opt>"),
     "futPf[pfCode=ES]/opt[1]/k: is required"),
    (FUT.replace("<p>10</p>", "<p>ten</p>"), "fut[1]/p='ten': not a number"),
    (FUT + FUT.replace("<cId>1</cId>", "<cId>x</cId>"), "fut[2]/cId='x': not an integer"),
    (FUT.replace("<fut>", "<opt><o>X</o><k>1</k>").replace("</fut>", "</opt>"),
     "futPf[pfCode=ES]/opt[1]/o='X': must be C or P"),
])
def test_bad_contract_names_file_path_and_value(tmp_path: Path, contracts: str,
                                                message: str) -> None:
    path = _write(tmp_path, _futures(contracts))
    with pytest.raises(InputError) as err:
        read_risk_parameters(path)
    text = str(err.value)
    assert text.startswith(str(path)) and "\n" not in text
    assert message in text, text


@pytest.mark.parametrize(("body", "message"), [
    ("<ccDef><cc>C</cc><dSpread><spread>1</spread><tLeg><cc>C</cc><tn>1</tn><rs>X</rs>"
     "</tLeg><tLeg><cc>C</cc><tn>2</tn><rs>B</rs></tLeg></dSpread></ccDef>",
     "ccDef[cc=C]/dSpread[1]/tLeg[1]/rs='X': must be A or B"),
    ("<ccDef><cc>C</cc><dSpread><spread>1</spread><tLeg><cc>C</cc><tn>1</tn><rs>A</rs>"
     "</tLeg></dSpread></ccDef>", "a spread needs at least two legs"),
    ("<ccDef><cc>C</cc><pfLink><pfCode>C</pfCode><pfType>XYZ</pfType></pfLink></ccDef>",
     "pfType='XYZ': unknown portfolio type"),
    ("<ccDef><cc>C</cc><intraTiers><tier><tn>1</tn><sPe>2026</sPe></tier></intraTiers>"
     "</ccDef>", "ccDef[cc=C]/intraTiers/tier[1]/sPe='2026'"),
    ("<ccDef><cc>C</cc><intraTiers><tier><tn>1</tn><sPe>\u00b2\u00b2\u00b2\u00b2\u00b2"
     "\u00b2</sPe></tier></intraTiers></ccDef>", "ccDef[cc=C]/intraTiers/tier[1]/sPe="),
    ("<ccDef><cc>C</cc></ccDef><ccDef><cc>C</cc></ccDef>",
     "ccDef.cc='C': combined commodity defined twice"),
    ("<pointDef><scanPointDef><point>2</point></scanPointDef></pointDef>",
     "pointDef/scanPointDef[1]/point=2"),
    ("<curConv><fromCur>EUR</fromCur><toCur>USD</toCur><factor>0</factor></curConv>",
     "curConv[1]/factor='0': must be positive"),
    ("<ccDef><cc>C</cc><dSpread><spread>1</spread><rate><r>1</r><val>-1000</val></rate>"
     "<tLeg><cc>C</cc><tn>1</tn><rs>A</rs></tLeg><tLeg><cc>C</cc><tn>2</tn><rs>B</rs></tLeg>"
     "</dSpread></ccDef>", "ccDef[cc=C]/dSpread[1]/rate[1]/val='-1000': must not be negative"),
    ("<ccDef><cc>C</cc><spotRate><r>1</r><pe>202609</pe><outr>-100</outr></spotRate></ccDef>",
     "ccDef[cc=C]/spotRate[1]/outr='-100': must not be negative"),
    ("<interSpreads><dSpread><spread>1</spread><chargeMeth>F</chargeMeth><tLeg><cc>C</cc>"
     "<tn>1</tn><rs>A</rs></tLeg><tLeg><cc>S</cc><tn>1</tn><rs>B</rs></tLeg><tLeg><cc>S</cc>"
     "<tn>1</tn><rs>B</rs></tLeg></dSpread></interSpreads>",
     "interSpreads/dSpread[1]: two legs name the same commodity and tier"),
    ("<pointDef><scanPointDef><point>1</point><priceScanDef><mult>1e308</mult>"
     "<numerator>10</numerator></priceScanDef></scanPointDef>"
     + "".join(f"<scanPointDef><point>{k}</point></scanPointDef>" for k in range(2, 17))
     + "</pointDef>",
     "pointDef.scanPointDef.price=inf: scan point moves and weights must be finite"),
    ("<pointDef><scanPointDef><pairedPoint>99999999999999999999</pairedPoint>"
     "</scanPointDef></pointDef>", "pairedPoint='99999999999999999999': out of the 64-bit"),
])
def test_bad_definitions_name_the_element(tmp_path: Path, body: str, message: str) -> None:
    path = _write(tmp_path, _futures(FUT, extra=body))
    with pytest.raises(InputError, match=None) as err:
        read_risk_parameters(path)
    assert message in str(err.value), str(err.value)


def test_bad_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(InputError, match="file not found"):
        read_risk_parameters(tmp_path / "missing.spn")
    broken = tmp_path / "broken.spn"
    broken.write_text("<spanFile><pointInTime></spanFile>")
    with pytest.raises(InputError, match=r"not well-formed XML at line 1, column"):
        read_risk_parameters(broken)
    for root, piece in itertools.product(("html", "document"), (16, parser.FEED_BYTES)):
        # "document" is also the name of the reader's own wrapper element
        other = _write(tmp_path, _futures(FUT + FUT), root=root)
        monkeypatch.setattr(parser, "FEED_BYTES", piece)
        with pytest.raises(InputError, match="root: not a SPAN risk-parameter file"):
            read_risk_parameters(other)
    loose = _write(tmp_path, f"<pointInTime><clearingOrg>{FUT}</clearingOrg></pointInTime>")
    with pytest.raises(InputError, match=r"1 contract\(s\) outside a product portfolio"):
        read_risk_parameters(loose)


def test_memory_stays_flat_in_file_size(tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Contracts are cleared as they are read and converted a batch at a time: four times
    the file costs the reader (beyond the model it returns) far less than one byte of
    memory per extra byte of file (a document tree would hold many bytes per byte)."""
    import tracemalloc

    monkeypatch.setattr("crossmargin.methods.span.parser._BATCH", 512)

    def transient(n: int) -> tuple[int, int]:
        path = _write(tmp_path, _futures(FUT * n))
        tracemalloc.start()
        try:
            risk = read_risk_parameters(path)
            current, top = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert len(risk.contracts) == n
        return top - current, path.stat().st_size

    small, small_size = transient(2_000)
    large, large_size = transient(8_000)
    assert large < large_size
    assert large - small < 0.5 * (large_size - small_size)


def test_large_portfolios_convert_in_batches(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Portfolios larger than a batch are converted part by part; options take their
    series' period and underlying, contracts without a cvf their portfolio's."""
    series = "".join(
        f"<series><pe>2026{m:02d}</pe><undC><pfId>7</pfId><cId>{m}</cId></undC>"
        + "".join(f"<opt><cId>{k}</cId><o>{'CP'[k % 2]}</o><k>{100 + k}</k><p>1</p>"
                  f"<ra>{ARRAY}<d>0.5</d></ra></opt>" for k in range(300))
        + "</series>" for m in (9, 10, 11))
    body = _futures(FUT * 700).replace(
        "</futPf>", f"</futPf><oofPf><pfId>8</pfId><pfCode>ES</pfCode><cvf>50</cvf>{series}"
                    "</oofPf>")
    path = _write(tmp_path, body)
    monkeypatch.setattr("crossmargin.methods.span.parser._BATCH", 1 << 20)
    whole = read_risk_parameters(path)
    monkeypatch.setattr("crossmargin.methods.span.parser._BATCH", 128)
    parts = read_risk_parameters(path)
    _assert_same(whole, parts)
    c = parts.contracts
    assert len(c) == 1600 and np.all(c.cvf == 50.0)
    assert c.period[700:].tolist() == [202609] * 300 + [202610] * 300 + [202611] * 300
    assert c.und_cid[700:].tolist() == [9] * 300 + [10] * 300 + [11] * 300


def test_numbers_read_as_python_reads_them(tmp_path: Path) -> None:
    """Spaces around a number are allowed, as Python's ``float`` allows them; a risk
    array of values near the float limit is finite even where their sum is not."""
    huge = "".join("<a>1e308</a>" for _ in range(16))
    body = FUT.replace("<p>10</p>", "<p> 12.5 </p>").replace(ARRAY, huge)
    c = read_risk_parameters(_write(tmp_path, _futures(body))).contracts
    assert c.price.tolist() == [12.5]
    assert c.arrays.tolist() == [[1e308] * 16]
    assert c.arrays.dtype == np.float64 and c.arrays.flags.c_contiguous


def test_repeated_definition_parts_are_shared(tmp_path: Path) -> None:
    """Tiers, legs and rates repeated with the same texts become one shared object."""
    tiers = ("<intraTiers>" + "".join(f"<tier><tn>{n}</tn><sPe>20260{n}</sPe>"
                                      f"<ePe>20260{n}</ePe></tier>" for n in (1, 2))
             + "</intraTiers>")

    def spread(priority: int, cc: str) -> str:
        return (f"<dSpread><spread>{priority}</spread><chargeMeth>F</chargeMeth>"
                f"<rate><r>1</r><val>50</val></rate><tLeg><cc>{cc}</cc><tn>1</tn><rs>A</rs>"
                f"<i>1</i></tLeg><tLeg><cc>{cc}</cc><tn>2</tn><rs>B</rs><i>1</i></tLeg>"
                "</dSpread>")

    body = "".join(f"<ccDef><cc>{cc}</cc>{tiers}{spread(1, cc)}{spread(2, cc)}</ccDef>"
                   for cc in ("X", "Y"))
    x, y = read_risk_parameters(_write(tmp_path, _futures(FUT, extra=body))).combined
    assert x.intra_tiers == y.intra_tiers and x.intra_tiers is y.intra_tiers
    one, two = x.intra_spreads
    assert one.legs[0] is two.legs[0] and one.rates is two.rates
    assert y.intra_spreads[0].legs[0].cc == "Y" and y.intra_spreads[0].legs[0] is not one.legs[0]

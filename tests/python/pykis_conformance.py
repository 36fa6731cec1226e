"""python-kis, unmodified, against the kiswatch KIS simulator.

Run by `make conformance-python` (see tests/python/run.sh), which starts `kiswatch sim` on a free
loopback port and passes its addresses and demo credentials in the environment:

    KIS_SIM_REST   http://127.0.0.1:PORT
    KIS_SIM_WS     ws://127.0.0.1:PORT
    KIS_APP_KEY    the simulator's demo app key (36 characters, as python-kis checks)
    KIS_APP_SECRET the simulator's demo app secret (180 characters)

The only thing changed in python-kis is where it connects: its domain constants are rebound to the
simulator's addresses before the client is created. Every call below is python-kis's public API.
Exit status 0 when every check holds; the last line is "python-kis: N passed, N failed".
"""

import os
import sys
import threading
import traceback

import pykis.client.websocket as pykis_websocket
import pykis.kis as pykis_kis
import pykis.logging as pykis_logging
from pykis import KisNotFoundError, PyKis

REST = os.environ["KIS_SIM_REST"]
WS = os.environ["KIS_SIM_WS"]

# Base URLs: the one change.
pykis_kis.REAL_DOMAIN = REST
pykis_kis.VIRTUAL_DOMAIN = REST
pykis_websocket.WEBSOCKET_REAL_DOMAIN = WS
pykis_websocket.WEBSOCKET_VIRTUAL_DOMAIN = WS

CODE = "005930"

# python-kis logs every connect and subscribe at INFO; keep its warnings and errors only.
pykis_logging.setLevel("WARNING")

kis = PyKis(
    id="simulator",
    account="00000000-01",
    appkey=os.environ["KIS_APP_KEY"],
    secretkey=os.environ["KIS_APP_SECRET"],
    keep_token=False,
)

passed = 0
failed = 0


def check(name):
    """Runs the decorated function at once as one named check."""

    def run(fn):
        global passed, failed
        try:
            detail = fn()
            passed += 1
            print(f"ok    {name}: {detail}")
        except Exception as err:  # noqa: BLE001 - every failure is reported, then counted
            failed += 1
            print(f"FAIL  {name}: {type(err).__name__}: {err}")
            traceback.print_exc(limit=4)
        return fn

    return run


stock = None


@check("kis.stock(code) (search-info CTPF1604R)")
def _stock():
    global stock
    stock = kis.stock(CODE)
    info = stock.info
    assert stock.symbol == CODE, stock.symbol
    assert info.name == "삼성전자", info.name
    assert info.name_eng, "English name is empty"
    assert info.std_code.startswith("KR7" + CODE), info.std_code
    assert info.market == "KRX", info.market
    return f"{info.name} / {info.name_eng} / {info.std_code}"


@check("kis.stock(unknown code) raises KisNotFoundError")
def _unknown():
    try:
        kis.stock("999999")
    except KisNotFoundError as err:
        return f"KisNotFoundError ({str(err).splitlines()[0]})"
    raise AssertionError("no error for a code the market does not have")


@check("quote()")
def _quote():
    q = stock.quote()
    assert q.price > 0, q.price
    assert q.name == "삼성전자", q.name
    assert q.high >= q.low > 0
    return f"price {q.price} change {q.change} volume {q.volume}"


@check("orderbook()")
def _orderbook():
    book = stock.orderbook()
    assert len(book.asks) >= 1 and len(book.bids) >= 1, (len(book.asks), len(book.bids))
    assert book.asks[0].price > book.bids[0].price, (book.asks[0].price, book.bids[0].price)
    return f"{len(book.asks)} asks from {book.asks[0].price}, {len(book.bids)} bids from {book.bids[0].price}"


@check('chart("1y")')
def _chart():
    chart = stock.chart("1y")
    assert len(chart.bars) > 200, len(chart.bars)
    assert all(b.high >= b.low > 0 for b in chart.bars)
    return f"{len(chart.bars)} daily bars {chart.bars[0].time.date()}..{chart.bars[-1].time.date()}"


@check("day_chart()")
def _day_chart():
    chart = stock.day_chart()
    assert len(chart.bars) > 0, "no minute bars"
    return f"{len(chart.bars)} minute bars, last {chart.bars[-1].time}"


@check("realtime price subscription")
def _realtime():
    received = []
    event = threading.Event()

    def on_price(_client, e):
        received.append(e.response)
        event.set()

    ticket = stock.on("price", on_price)
    try:
        assert event.wait(timeout=20), "no realtime price event within 20 s"
    finally:
        ticket.unsubscribe()
    p = received[0]
    assert p.symbol == CODE, p.symbol
    assert p.price > 0, p.price
    return f"{len(received)} event(s), first price {p.price}"


@check("realtime order book subscription")
def _realtime_book():
    received = []
    event = threading.Event()

    def on_book(_client, e):
        received.append(e.response)
        event.set()

    ticket = stock.on("orderbook", on_book)
    try:
        assert event.wait(timeout=20), "no realtime order book event within 20 s"
    finally:
        ticket.unsubscribe()
    b = received[0]
    assert b.asks[0].price > b.bids[0].price
    return f"{len(received)} event(s), best ask {b.asks[0].price}"


kis.websocket.disconnect()
print(f"python-kis: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)

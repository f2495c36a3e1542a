"""Queue-routing benchmark: the production shape on this machine, driven through the sandbox.

Starts what docker-compose runs (uvicorn serving the ASGI app, a Celery
worker, Celery beat for the routing tick) against the local PostgreSQL and
Redis, on a fresh ``contactcenter_bench_queues`` database, plus the Telnyx
sandbox in this process. Seeds one queue (wrap-up 0, longest idle) with
``--agents`` agents on SIP phones that the sandbox answers after
``--ring-ms`` and hangs up ``--talk`` seconds later. Each agent is a
"browser": logged in through ``POST /login/`` and holding the live websocket
(``/ws/live/``) with its session cookie. Then measures and prints:

1. an agent is free when a caller enters the queue: from the sandbox sending
   ``call.enqueued`` to the app's ``dial`` of the agent's phone reaching the
   sandbox (``--callers`` callers arriving evenly at ``--rate`` per second),
   with where the time goes (stored, processed, offer made, command sent);
2. callers are already waiting when an agent becomes free: from an agent
   clicking "Available" (``POST /api/agents/me/status/``) to the dial, and
   from an agent's phone hanging up (``call.hangup``, wrap-up 0) to the dial
   of that agent's next caller (agents then take the ``--waiting`` callers
   back to back, ``--waiting-talk`` seconds each);
3. webhook to browser: from the sandbox sending a webhook to the agent's
   websocket receiving the ``offer.updated`` it causes (``call.enqueued`` ->
   the ringing offer, the agent leg's ``call.answered`` -> connected,
   ``call.hangup`` -> ended).

Every time is taken on this machine's clock: the sandbox logs when it sent
each webhook and when each command reached it; the websocket clients note
when each message arrived; the app's timestamps come from its own rows.

Usage: ``.venv/bin/python benchmarks/queues.py --help``. Figures, not assertions.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import aiohttp  # noqa: E402
import psycopg  # noqa: E402

from _shape import Stack, add_stack_arguments, cpu_report, cpu_seconds, percentiles  # noqa: E402

QUEUE_LINE = "+13125550160"
PASSWORD = "benchmark-only-password"
DB_NAME = "contactcenter_bench_queues"

SEED = """
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from apps.agents.models import Agent
from apps.numbers.models import PhoneNumber
from apps.queues.models import Queue, QueueMember

group = Group.objects.get_or_create(name="agent")[0]
queue = Queue.objects.create(name="Bench", wrap_up_secs=0, ring_timeout_secs={ring_timeout})
for name in {names!r}:
    user = get_user_model().objects.create_user(username=name, password={password!r}, first_name=name.title())
    user.groups.add(group)
    agent = Agent.objects.create(user=user, endpoint=Agent.Endpoint.SIP, sip_uri="sip:%s@sandbox.telnyx.com" % name)
    QueueMember.objects.create(queue=queue, agent=agent, priority=1)
PhoneNumber.objects.update_or_create(
    e164={line!r}, defaults={{"label": "Benchmark queue line", "route": PhoneNumber.Route.QUEUE, "queue": queue}}
)
"""


def agent_uri(name: str) -> str:
    return f"sip:{name}@sandbox.telnyx.com"


# --- The agents' browsers ---------------------------------------------------------------
class Browsers:
    """One logged-in agent workspace per agent, in an event loop of its own thread.

    Each holds an HTTP session (logged in through the login form, CSRF and
    all) and the live websocket, and notes the arrival time of every message.
    """

    def __init__(self, base_url: str, names: list[str]):
        self.base_url = base_url
        self.names = names
        self.received: dict[str, list[tuple[float, str]]] = {name: [] for name in names}
        self.sessions: dict[str, aiohttp.ClientSession] = {}
        self.ws_sessions: dict[str, aiohttp.ClientSession] = {}
        self.dropped: list[str] = []  # sockets the server closed during the run
        self.closing = False
        self.sockets: dict[str, aiohttp.ClientWebSocketResponse] = {}
        self.readers: list[asyncio.Task] = []
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, name="browsers", daemon=True).start()

    def run(self, coro, timeout: float = 120):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def open(self) -> None:
        self.run(self._open_all())

    async def _open_all(self) -> None:
        await asyncio.gather(*(self._open(name) for name in self.names))

    async def _open(self, name: str) -> None:
        session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.sessions[name] = session
        async with session.get(f"{self.base_url}/login/") as response:
            await response.read()
        async with session.post(
            f"{self.base_url}/login/",
            data={"username": name, "password": PASSWORD, "csrfmiddlewaretoken": self._csrf(name)},
            allow_redirects=False,
        ) as response:
            await response.read()
            if response.status != 302:
                raise RuntimeError(f"login of {name} answered {response.status}")
        # A browser opens its websocket on a connection of its own, never on a
        # kept-alive HTTP one: so does this client. (Upgrading the login's
        # connection got the socket closed 5 s later: see the README.)
        ws_session = aiohttp.ClientSession(cookie_jar=session.cookie_jar)
        self.ws_sessions[name] = ws_session
        ws = await ws_session.ws_connect(f"{self.base_url.replace('http', 'ws', 1)}/ws/live/", origin=self.base_url,
                                         heartbeat=None)
        hello = await ws.receive_json(timeout=30)
        if hello.get("type") != "hello":
            raise RuntimeError(f"{name}'s websocket said {hello}")
        self.sockets[name] = ws
        self.readers.append(asyncio.create_task(self._read(name, ws)))

    def _csrf(self, name: str) -> str:
        for cookie in self.sessions[name].cookie_jar:
            if cookie.key == "csrftoken":
                return cookie.value
        raise RuntimeError(f"no CSRF cookie for {name}")

    async def _read(self, name: str, ws) -> None:
        log = self.received[name]
        async for message in ws:
            if message.type == aiohttp.WSMsgType.TEXT:
                log.append((time.time(), message.data))
        if not self.closing:
            self.dropped.append(f"{name} at {time.time():.1f} (code {ws.close_code}, {ws.exception()!r})")

    def set_status(self, name: str, status: str) -> float:
        """The agent clicks a status in the workspace; returns when the request left."""
        return self.run(self._set_status(name, status))

    async def _set_status(self, name: str, status: str) -> float:
        clicked = time.time()
        async with self.sessions[name].post(
            f"{self.base_url}/api/agents/me/status/", json={"status": status},
            headers={"X-CSRFToken": self._csrf(name)},
        ) as response:
            body = await response.text()
            if response.status != 200:
                raise RuntimeError(f"{name} -> {status}: {response.status} {body[:300]}")
        return clicked

    def offer_messages(self) -> dict[int, dict[str, float]]:
        """offer id -> {status: when the first ``offer.updated`` with that status arrived}."""
        seen: dict[int, dict[str, float]] = defaultdict(dict)
        for log in self.received.values():
            for at, raw in list(log):
                message = json.loads(raw)
                if message.get("type") == "offer.updated":
                    offer = message["offer"]
                    seen[offer["id"]].setdefault(offer["status"], at)
        return seen

    def message_counts(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for log in self.received.values():
            for _, raw in list(log):
                counts[json.loads(raw).get("type", "?")] += 1
        return dict(counts)

    def close(self) -> None:
        self.closing = True

        async def _close():
            for ws in self.sockets.values():
                await ws.close()
            for task in self.readers:
                task.cancel()
            for session in [*self.ws_sessions.values(), *self.sessions.values()]:
                await session.close()

        try:
            self.run(_close(), timeout=10)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)


# --- What the sandbox and the database saw --------------------------------------------------
class Record:
    """The sandbox's logs and the app's rows, read once a phase is over."""

    def __init__(self, sandbox, dsn: str):
        self.enqueued: dict[str, float] = {}  # caller leg -> call.enqueued sent
        self.leg_events: dict[tuple[str, str], float] = {}  # (leg, event type) -> first sent
        for delivery in sandbox.webhooks():
            sent = delivery["at"] - delivery["latency_ms"] / 1000
            key = (delivery["call_control_id"], delivery["event_type"])
            if key not in self.leg_events or sent < self.leg_events[key]:
                self.leg_events[key] = sent
            if delivery["event_type"] == "call.enqueued":
                self.enqueued.setdefault(delivery["call_control_id"], sent)
        # Every dial the app sent: when it reached the sandbox, to whom, for which caller and offer.
        self.dials: list[dict] = []
        for command in sandbox.commands(action="dial"):
            if command["status"] != 200 or command.get("deduped"):
                continue
            body = command["body"]
            state = json.loads(base64.b64decode(body.get("client_state") or "e30="))
            self.dials.append({
                "at": command["at"] - command["latency_ms"] / 1000,
                "to": body["to"],
                "caller": body.get("link_to"),
                "offer": state.get("offer"),
                "leg": command["call_control_id"],
            })
        self.dials.sort(key=lambda d: d["at"])
        self.first_dial: dict[str, float] = {}
        for dial in self.dials:
            self.first_dial.setdefault(dial["caller"], dial["at"])
        with psycopg.connect(dsn) as conn:
            rows = conn.execute(
                "SELECT u.username, c.new_status, c.at FROM agents_agentstatuschange c "
                "JOIN agents_agent a ON a.id = c.agent_id JOIN auth_user u ON u.id = a.user_id ORDER BY c.at, c.id"
            ).fetchall()
            # When the app stored and processed each webhook, made each offer and claimed each dial.
            self.stored: dict[tuple[str, str], tuple[float, float]] = {
                (ccid, kind): (received.timestamp(), processed.timestamp())
                for ccid, kind, received, processed in conn.execute(
                    "SELECT call_control_id, event_type, received_at, processed_at FROM telnyx_telnyxevent "
                    "WHERE processed_at IS NOT NULL")
            }
            self.offers: dict[int, tuple[float, float | None]] = {
                pk: (created.timestamp(), sent.timestamp() if sent else None)
                for pk, created, sent in conn.execute(
                    "SELECT o.id, o.created_at, cmd.sent_at FROM queues_offer o "
                    "JOIN telnyx_telnyxcommand cmd ON cmd.key = 'offer:' || o.id || ':dial'")
            }
            self.offer_statuses = dict(conn.execute(
                "SELECT status, count(*) FROM queues_offer GROUP BY status").fetchall())
        self.status_changes: list[tuple[float, str, str]] = [(at.timestamp(), name, new) for name, new, at in rows]

    def served_when_free(self, name: str, after: float) -> bool:
        """Was the first time ``name`` became available after ``after`` followed straight by ringing
        (a caller was waiting for them), rather than by going away at the end of a round?"""
        moves = [new for at, who, new in self.status_changes if who == name and at > after]
        if "available" not in moves:
            return False
        following = moves[moves.index("available") + 1:]
        return bool(following) and following[0] == "ringing"

    def available_at(self, t: float, *, but: str | None = None) -> int:
        """How many agents were available at ``t`` (from their status history)."""
        status: dict[str, str] = {}
        for at, name, new in self.status_changes:
            if at > t:
                break
            status[name] = new
        return sum(1 for name, s in status.items() if s == "available" and name != but)

    def waiting_at(self, t: float, callers) -> int:
        """Callers in Telnyx's queue at ``t`` with no agent dialled for them yet."""
        return sum(1 for c in callers
                   if c in self.enqueued and self.enqueued[c] < t and self.first_dial.get(c, float("inf")) > t)

    def next_dial(self, to: str, after: float) -> dict | None:
        for dial in self.dials:
            if dial["to"] == to and dial["at"] > after:
                return dial
        return None


# --- The phases -----------------------------------------------------------------------------
def place_callers(sandbox, count: int, rate: float, prefix: str) -> tuple[list[str], float]:
    """``count`` callers ring the queue line, evenly at ``rate`` per second; returns their legs."""
    started = time.monotonic()
    ccids = []
    for n in range(count):
        time.sleep(max(0.0, started + n / rate - time.monotonic()))
        placed = sandbox.place_call(from_=f"+1555{prefix}{n:04d}", to=QUEUE_LINE)
        ccids.append(placed["call_control_id"])
    return ccids, time.monotonic() - started


def wait_until(predicate, timeout: float, interval: float = 0.25) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


def count(dsn: str, sql: str, *params) -> int:
    with psycopg.connect(dsn) as conn:
        return conn.execute(sql, params).fetchone()[0]


def settle(sandbox, dsn: str, agents: int, timeout: float) -> None:
    """Until every call has ended and every agent is available again (stragglers are hung up)."""
    quiet = wait_until(
        lambda: not sandbox.calls(alive=True)
        and count(dsn, "SELECT count(*) FROM agents_agent WHERE status = 'available'") == agents,
        timeout,
    )
    if not quiet:
        alive = sandbox.calls(alive=True)
        print(f"   ! {len(alive)} calls still up after {timeout:.0f} s; hanging them up")
        for call in alive:
            try:
                sandbox.hangup(call["call_control_id"])
            except Exception:  # noqa: BLE001 - it may have ended meanwhile
                pass
        wait_until(lambda: not sandbox.calls(alive=True), 30)
    sandbox.wait_for_idle(timeout=30)


class Hops:
    """Where the time goes between a webhook sent and the dial it causes (medians of each step)."""

    STEPS = ("webhook stored", "event processed", "offer made", "dial claimed", "dial at sandbox")

    def __init__(self, record: Record):
        self.record = record
        self.steps: dict[str, list[float]] = defaultdict(list)

    def add(self, sent: float, leg: str, kind: str, dial: dict) -> None:
        stored, offer = self.record.stored.get((leg, kind)), self.record.offers.get(dial["offer"])
        if stored is None or offer is None or offer[1] is None:
            return
        points = [sent, *stored, *offer, dial["at"]]
        for name, a, b in zip(self.STEPS, points, points[1:]):
            self.steps[name].append((b - a) * 1000)

    def __str__(self) -> str:
        def median(values):
            return sorted(values)[len(values) // 2]

        return "; ".join(f"{name} +{median(self.steps[name]):.1f}" for name in self.STEPS if self.steps[name]) \
            + " ms (medians)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", type=int, default=12)
    parser.add_argument("--callers", type=int, default=200, help="callers in phase 1 (agents free)")
    parser.add_argument("--rate", type=float, default=1.5, help="new callers per second in phase 1")
    parser.add_argument("--ring-ms", type=float, default=500.0, help="how long agents' phones ring before answering")
    parser.add_argument("--talk", type=float, default=2.0, help="seconds until the agent's phone hangs up")
    parser.add_argument("--waiting", type=int, default=30, help="callers waiting before agents come back (phase 2)")
    parser.add_argument("--waiting-talk", type=float, default=8.0,
                        help="phase 2's --talk: longer, so agents back to back stay within this machine's means")
    parser.add_argument("--rounds", type=int, default=2, help="times phase 2 is played")
    parser.add_argument("--click-gap", type=float, default=0.5, help="seconds between agents clicking Available")
    parser.add_argument("--no-beat", action="store_true", help="no Celery beat (no periodic routing tick)")
    add_stack_arguments(parser, redis_url="redis://127.0.0.1:6379/8")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contactcenter.settings")
    from apps.sandbox.client import SandboxClient
    from apps.sandbox.runner import SandboxServer

    names = [f"bench{n:03d}" for n in range(args.agents)]
    sandbox_server = SandboxServer(webhook_url=None, time_scale=1.0)
    sandbox_server.start()
    stack = Stack(args, sandbox_server.public_key_b64, sandbox_server.api_base_url, db_name=DB_NAME,
                  channels_prefix="cc-bench-queues",
                  # Plain HTTP on localhost: the browsers' cookies must not be Secure-only.
                  env={"SESSION_COOKIE_SECURE": "false", "CSRF_COOKIE_SECURE": "false"})
    print(f"settings: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; {stack.describe()}"
          f"{'' if args.no_beat else '; beat'}; PostgreSQL {args.postgres}/{DB_NAME}; Redis {args.redis}")
    print(f"queue: longest idle, wrap-up 0; {args.agents} agents whose phones answer after {args.ring_ms:.0f} ms "
          f"and hang up {args.talk:.1f} s later")
    stack.prepare_database(SEED.format(names=names, password=PASSWORD, line=QUEUE_LINE, ring_timeout=20))
    stack.start(beat=not args.no_beat)
    sandbox = SandboxClient(sandbox_server.base_url)
    sandbox.update_config(webhook_url=f"{stack.url}/webhooks/telnyx/")
    sandbox.set_destinations({agent_uri(name): {"answer": "auto", "ring_ms": args.ring_ms,
                                                 "hangup_after_ms": args.talk * 1000} for name in names})
    browsers = Browsers(stack.url, names)
    dsn = stack.dsn
    try:
        browsers.open()
        for name in names:
            browsers.set_status(name, "available")
        wait_until(lambda: count(dsn, "SELECT count(*) FROM agents_agent WHERE status = 'available'")
                   == args.agents, 30)

        # Warm-up: a few calls end to end (imports, pools, caches); not measured.
        place_callers(sandbox, min(args.agents, 5), 5.0, "299")
        settle(sandbox, dsn, args.agents, 60)

        # --- Phase 1: callers arrive while agents are free.
        before, before_messages = cpu_seconds(), browsers.message_counts()
        callers, took = place_callers(sandbox, args.callers, args.rate, "200")
        settle(sandbox, dsn, args.agents, 60 + args.talk * 3)
        after, after_messages = cpu_seconds(), browsers.message_counts()
        record = Record(sandbox, dsn)
        to_dial, free, busy, never = [], set(), 0, 0
        hops, first_dial_of = Hops(record), {}
        for dial in record.dials:
            first_dial_of.setdefault(dial["caller"], dial)
        for ccid in callers:
            sent, dialled = record.enqueued.get(ccid), record.first_dial.get(ccid)
            if sent is None or dialled is None:
                never += 1
                continue
            if record.available_at(sent) <= record.waiting_at(sent, callers):
                busy += 1  # every free agent was already promised to someone ahead in line
                continue
            to_dial.append((dialled - sent) * 1000)
            free.add(ccid)
            hops.add(sent, ccid, "call.enqueued", first_dial_of[ccid])
        print(f"\n1. agent free -> dial: {args.callers} callers at {args.rate:g}/s (placed in {took:.1f} s), "
              f"{args.agents} agents")
        print(f"   call.enqueued sent -> agent's dial at the sandbox: {percentiles(to_dial)}")
        if busy or never:
            print(f"   left out: {busy} callers who found every agent taken, {never} never enqueued or dialled")
        print(f"   where it goes: {hops}")
        print(f"   {cpu_report(before, after, args.callers, unit='caller')} (the sandbox plays both callers and "
              "agents' phones; the browsers run in the load generator)")
        fanout = {kind: (n - before_messages.get(kind, 0)) / args.callers for kind, n in sorted(after_messages.items())}
        print(f"   websocket messages per caller, all {args.agents} browsers together: "
              + ", ".join(f"{kind} {n:.1f}" for kind, n in fanout.items() if n))

        # --- Phase 2: callers wait; agents become free.
        sandbox.set_destinations({agent_uri(name): {"answer": "auto", "ring_ms": args.ring_ms,
                                                     "hangup_after_ms": args.waiting_talk * 1000} for name in names})
        clicks: list[tuple[str, float]] = []
        phase2: list[str] = []
        for round_ in range(args.rounds):
            for name in names:
                browsers.set_status(name, "away")
            waiting, _ = place_callers(sandbox, args.waiting, 20.0, f"3{round_}")
            phase2 += waiting
            wait_until(lambda: count(dsn, "SELECT count(*) FROM queues_queueentry WHERE status = 'waiting' "
                                          "AND entered_at IS NOT NULL") == args.waiting, 60)
            time.sleep(1.0)  # let the last enqueue's dispatch and the tick find nobody
            for name in names:
                clicks.append((name, browsers.set_status(name, "available")))
                time.sleep(args.click_gap)
            settle(sandbox, dsn, args.agents, 60 + args.waiting / args.agents * (args.waiting_talk + 2) * 2)
        record = Record(sandbox, dsn)
        # Only agents who got a caller as soon as they were free (not once all callers were taken).
        click_to_dial = []
        for name, t in clicks:
            following = record.next_dial(agent_uri(name), t)
            if following is not None and record.served_when_free(name, t):
                click_to_dial.append((following["at"] - t) * 1000)
        hangup_to_dial, hops = [], Hops(record)
        phase2_set = set(phase2)
        for dial in record.dials:
            if dial["caller"] not in phase2_set:
                continue
            ended = record.leg_events.get((dial["leg"], "call.hangup"))
            if ended is None:
                continue
            name = dial["to"].split(":")[1].split("@")[0]
            if not record.served_when_free(name, ended):
                continue
            following = record.next_dial(dial["to"], ended)
            if following is not None:
                hangup_to_dial.append((following["at"] - ended) * 1000)
                hops.add(ended, dial["leg"], "call.hangup", following)
        if args.rounds:
            print(f"\n2. callers waiting -> agent free: {args.rounds} x {args.waiting} callers waiting, "
                  f"{args.agents} agents clicking Available {args.click_gap:g} s apart, then taking calls back to "
                  f"back ({args.waiting_talk:g} s each)")
            print(f"   click Available (POST sent) -> dial at the sandbox:   {percentiles(click_to_dial)}")
            print(f"   agent leg call.hangup sent -> that agent's next dial:  {percentiles(hangup_to_dial)}")
            print(f"   where it goes (hang-up -> next dial): {hops}")

        # --- Webhook -> the agent's browser (both phases).
        seen = browsers.offer_messages()
        measured = set(callers) | phase2_set
        ringing, connected, ended_ = [], [], []
        for dial in record.dials:
            if dial["caller"] not in measured:
                continue  # the warm-up
            got = seen.get(dial["offer"], {})
            if dial["caller"] in free and record.first_dial[dial["caller"]] == dial["at"] and "ringing" in got:
                ringing.append((got["ringing"] - record.enqueued[dial["caller"]]) * 1000)
            answered = record.leg_events.get((dial["leg"], "call.answered"))
            if answered and "connected" in got:
                connected.append((got["connected"] - answered) * 1000)
            hungup = record.leg_events.get((dial["leg"], "call.hangup"))
            if hungup and "ended" in got:
                ended_.append((got["ended"] - hungup) * 1000)
        print("\n3. webhook sent -> offer.updated on the agent's websocket:")
        print(f"   call.enqueued (agent free) -> ringing:   {percentiles(ringing)}")
        print(f"   agent leg call.answered  -> connected:  {percentiles(connected)}")
        print(f"   agent leg call.hangup    -> ended:      {percentiles(ended_)}")
        missing = sum(1 for d in record.dials if d["offer"] not in seen and d["caller"] in measured)
        print(f"\n   offers by status: {record.offer_statuses}; dials whose offer never reached a websocket: "
              f"{missing}; spec violations: {len(sandbox.violations())}; load average "
              f"{os.getloadavg()[0]:.2f}")
        if browsers.dropped:
            print(f"   ! websockets closed by the server during the run: {', '.join(browsers.dropped)}")
    finally:
        browsers.close()
        stack.stop()
        sandbox_server.stop()


if __name__ == "__main__":
    main()

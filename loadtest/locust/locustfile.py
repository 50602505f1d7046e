"""A flash crowd from many machines: Locust's master and workers, headless.

Every buyer purchases once with the chosen strategy, then stops; the run ends
when the last buyer has its answer (or at --run-time). The master restocks
once (test_start) and, after the workers stopped, reads the verdict from the
service's own numbers (GET /api/products/{id}, test_stop), in the words of
flashsale-loadtest's report. Oversold, lost updates, lost orders, duplicates
or a queue that did not drain exit 1.

    locust -f loadtest/locust/locustfile.py --headless --master --expect-workers 2 \
        -u 200 -r 200 --run-time 60s --host http://127.0.0.1:8080 --lock redis --stock 20
    locust -f loadtest/locust/locustfile.py --worker --host http://127.0.0.1:8081

A worker sends its buyers to its own --host (Locust would give it the
master's), so two workers can load two instances.
"""

import logging
import time
from collections import Counter

import gevent
import requests
from locust import HttpUser, constant, events, task
from locust.exception import StopUser
from locust.runners import MasterRunner, WorkerRunner

log = logging.getLogger("flashsale")

# How often a worker tells the master about buyers that got their answer.
REPORT_EVERY_S = 0.2
# How often the master asks for the product while orders are queued.
DRAIN_POLL_S = 0.05

# This process's own --host, read before the master's spawn message
# overwrites it (a worker's buyers go to their own instance).
own_host = None
# A worker's (or a lone process's) buyers that got their answer, by answer,
# and the part of it already told to the master.
answered = Counter()
told = Counter()
first_sent = None
last_answer = None


class Run:
    """What the master knows of the run: the buyers' answers, the product."""

    def __init__(self):
        self.answers = Counter()
        self.first_sent = None
        self.last_answer = None
        self.restocked = False
        self.finishing = False


run = Run()


@events.init_command_line_parser.add_listener
def add_options(parser):
    parser.add_argument("--lock", default="redis", help="Strategy of every purchase (GET /api/strategies)")
    parser.add_argument("--product", type=int, default=1, help="Product id")
    parser.add_argument("--stock", type=int, default=100, help="Stock the master restocks to before the crowd")
    parser.add_argument("--per-buyer", type=int, default=None, help="Units one buyer may get (restock)")
    parser.add_argument("--work-ms", type=int, default=None, help="The business step inside the sale (work_ms)")
    parser.add_argument("--pause-ms", type=int, default=None, help="A stop right after the read (pause_ms)")
    parser.add_argument("--ttl-ms", type=int, default=None, help="The lock's TTL (ttl_ms)")
    parser.add_argument("--deadline-ms", type=int, default=None, help="How long a buyer waits for the lock")
    parser.add_argument(
        "--drain-timeout", type=float, default=30.0, help="Seconds to wait for queued orders (redis-stream)"
    )
    parser.add_argument(
        "--admin-token",
        env_var="ADMIN_TOKEN",
        default="",
        is_secret=True,
        help="The service's ADMIN_TOKEN (restock; knobs past the open limits)",
    )


def admin_headers(options):
    return {"Authorization": f"Bearer {options.admin_token}"} if options.admin_token else {}


def purchase_query(options):
    query = {"lock": options.lock}
    for knob in ("work_ms", "pause_ms", "ttl_ms", "deadline_ms"):
        value = getattr(options, knob)
        if value is not None:
            query[knob] = value
    return query


def answer_of(response):
    """The answer in one word: `201`, `409 sold_out`, `429`, `no answer` …"""
    status = response.status_code
    if not status:
        return "no answer"
    if status == 409:
        try:
            return f"409 {response.json().get('error', '')}".strip()
        except ValueError:
            return "409"
    if 500 <= status:
        return "5xx"
    if status in (201, 202, 429):
        return str(status)
    return f"other {status}"


class Buyer(HttpUser):
    """One buyer of the crowd: one purchase, then gone."""

    wait_time = constant(0)

    @task
    def buy(self):
        global first_sent, last_answer
        options = self.environment.parsed_options
        target = (own_host or self.host).rstrip("/")
        first_sent = first_sent or time.time()
        with self.client.post(
            f"{target}/api/products/{options.product}/purchase",
            params=purchase_query(options),
            headers=admin_headers(options),
            name="purchase",
            catch_response=True,
        ) as response:
            answer = answer_of(response)
            # One row per answer in Locust's stats and CSV.
            response.request_meta["name"] = f"purchase {answer}"
            if answer in ("no answer", "5xx") or answer.startswith("other"):
                response.failure(answer)
            else:
                response.success()
        answered[answer] += 1
        last_answer = time.time()
        raise StopUser()


def tell_master(environment):
    """A worker's loop: the answers its buyers got since it last told."""
    while True:
        gevent.sleep(REPORT_EVERY_S)
        news = answered - told
        if news:
            told.update(news)
            environment.runner.send_message(
                "buyers_answered",
                {"answers": dict(news), "first_sent": first_sent, "last_answer": last_answer},
            )


def on_buyers_answered(environment, msg, **_):
    """The master's side: add up, and end the run once every buyer answered."""
    run.answers.update(msg.data["answers"])
    if msg.data["first_sent"]:
        run.first_sent = min(filter(None, [run.first_sent, msg.data["first_sent"]]))
    run.last_answer = max(filter(None, [run.last_answer, msg.data["last_answer"]]))
    buyers = environment.parsed_options.num_users
    if buyers and sum(run.answers.values()) >= buyers and not run.finishing:
        run.finishing = True
        log.info("all %d buyers have their answer: ending the run", buyers)
        # Not in this handler: quit() waits for messages this greenlet receives.
        gevent.spawn(environment.runner.quit)


@events.init.add_listener
def on_init(environment, **_):
    global own_host
    own_host = environment.host
    runner = environment.runner
    if not isinstance(runner, WorkerRunner):
        runner.register_message("buyers_answered", on_buyers_answered)
    if not isinstance(runner, MasterRunner):
        gevent.spawn(tell_master, environment)


def is_worker(environment):
    return isinstance(environment.runner, WorkerRunner)


@events.test_start.add_listener
def restock(environment, **_):
    if is_worker(environment):
        return
    options = environment.parsed_options
    body = {"stock": options.stock}
    if options.per_buyer is not None:
        body["per_buyer"] = options.per_buyer
    url = f"{environment.host.rstrip('/')}/api/products/{options.product}/reset"
    try:
        answer = requests.post(url, json=body, headers=admin_headers(options), timeout=10)
        answer.raise_for_status()
    except requests.RequestException as error:
        log.error("the restock failed (%s): no verdict", error)
        environment.process_exit_code = 2
        gevent.spawn(environment.runner.quit)
        return
    run.restocked = True
    log.info("restocked product %d to %d", options.product, options.stock)


@events.test_stop.add_listener
def verdict(environment, **_):
    if is_worker(environment) or not run.restocked:
        return
    # A lone process tells itself: take in what its loop has not yet told.
    if not isinstance(environment.runner, MasterRunner):
        news = answered - told
        told.update(news)
        run.answers.update(news)
        run.first_sent, run.last_answer = first_sent, last_answer
    options = environment.parsed_options
    product, drained = read_after_drain(environment, options)
    if product is None:
        print("flashsale verdict: none (the product could not be read)", flush=True)
        environment.process_exit_code = 2
        return
    safe, summary = judge(product, run.answers, drained)
    print(f"flashsale answers: {answers_line(run.answers)}", flush=True)
    accepted = run.answers["201"] + run.answers["202"]
    if run.first_sent and run.last_answer and run.last_answer > run.first_sent:
        elapsed = run.last_answer - run.first_sent
        answers = sum(run.answers.values())
        print(
            f"flashsale purchases/s: {accepted / elapsed:.1f} ({accepted} in {elapsed:.2f} s;"
            f" {answers / elapsed:.1f} answers/s)",
            flush=True,
        )
    print(f"flashsale verdict (lock={options.lock}): {summary}", flush=True)
    environment.process_exit_code = 0 if safe else 1


def read_after_drain(environment, options):
    """The product once nothing is queued (bounded by --drain-timeout)."""
    url = f"{environment.host.rstrip('/')}/api/products/{options.product}"
    deadline = time.monotonic() + options.drain_timeout
    product = None
    while True:
        try:
            answer = requests.get(url, timeout=5)
            answer.raise_for_status()
            product = answer.json()
        except (requests.RequestException, ValueError) as error:
            log.warning("reading the product: %s", error)
        queued = product.get("queued", 0) if product else None
        # Without a 202 nothing of this crowd can be queued.
        empty = queued == 0 or (queued is None and product is not None and not run.answers["202"])
        if empty or time.monotonic() >= deadline:
            return product, empty
        gevent.sleep(DRAIN_POLL_S)


def judge(product, answers, drained):
    """flashsale-loadtest's verdict (loadtest/src/report/verdict.rs), in its words."""
    initial, orders, stock = product["initial_stock"], product["orders"], product["stock"]
    oversold, lost_updates = product["oversold"], product["lost_updates"]
    duplicates = product.get("duplicates", 0)
    queued = product.get("queued", 0)
    accepted = answers["201"] + answers["202"]
    lost_orders = max(0, accepted - orders - (queued or 0))
    turned_away = answers["429"] + answers["409 lock_lost"]
    unsold = max(stock, 0) if turned_away else 0
    if oversold > 0:
        summary = f"sold {orders} of {initial}: OVERSOLD by {oversold}"
        if lost_updates > 0:
            summary += f", {lost_updates} lost updates"
        if lost_orders > 0:
            summary += f", {lost_orders} LOST ORDERS"
    elif lost_orders > 0:
        summary = f"accepted {accepted} of {initial} but wrote {orders}: {lost_orders} LOST ORDERS"
    elif not drained:
        summary = f"accepted {accepted} of {initial}, wrote {orders}: NOT DRAINED"
    elif lost_updates > 0:
        summary = (
            f"sold {orders} of {initial} but LOST {lost_updates} updates (the stock says {initial - stock} sold)"
        )
    elif unsold > 0:
        summary = f"sold {orders} of {initial}: UNDERSOLD, {unsold} left in stock while {turned_away_words(answers)}"
    elif orders == initial:
        summary = f"sold exactly {orders} of {initial}: safe"
    else:
        summary = f"sold {orders} of {initial}: safe ({stock} left: fewer buyers than stock)"
    if not drained:
        summary += f" ({queued} still queued)" if queued is not None else " (the service cannot say how many are queued)"
    if duplicates > 0:
        summary += f"; {duplicates} DUPLICATES past the per-buyer limit"
    troubles = []
    if answers["409 lock_lost"] and not unsold:
        troubles.append(f"{answers['409 lock_lost']} lost their lock and wrote nothing")
    if answers["409 restocked"]:
        troubles.append(f"{answers['409 restocked']} answered 409 restocked")
    if answers["5xx"]:
        troubles.append(f"{answers['5xx']} answered 5xx")
    other_4xx = sum(n for answer, n in answers.items() if answer.startswith("other 4"))
    if other_4xx:
        troubles.append(f"{other_4xx} answered another 4xx")
    if answers["no answer"]:
        troubles.append(f"{answers['no answer']} transport errors")
    if troubles:
        summary += f" ({', '.join(troubles)})"
    safe = oversold <= 0 and lost_updates <= 0 and duplicates <= 0 and lost_orders == 0 and drained
    return safe, summary


def turned_away_words(answers):
    """`40 buyers were turned away busy`, `2 buyers lost their lock`, or both."""
    busy, lost = answers["429"], answers["409 lock_lost"]
    buyers = "buyer" if lost == 1 else "buyers"
    were = "buyer was" if busy == 1 else "buyers were"
    if not busy:
        return f"{lost} {buyers} lost their lock"
    if not lost:
        return f"{busy} {were} turned away busy"
    return f"{busy} {were} turned away busy and {lost} lost their lock"


def answers_line(answers):
    return " ".join(f"{answer}×{n}" for answer, n in sorted(answers.items())) or "none"

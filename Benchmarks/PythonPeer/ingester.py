"""A hand-rolled MQTT -> SQLite ingester, as a user would write it in an afternoon: the
peer that IngestBench's county case drains the same backlog with.

paho-mqtt on a persistent session (QoS 1, acknowledged by paho when on_message returns),
the JSON payload form 1 parsed with the json module, readings inserted into one plain
table (device, metric, ts, value; no index) with a commit every BATCH messages or
0.2 s. Nothing else: no rollups, no latest values, no rules, no rejects, no ack after
commit.

Usage: ingester.py --port P --client-id ID --db PATH (--create-session | --expect N)
Prints one JSON line at the end: cpu_seconds, messages, readings, seconds, max_rss_kib.
"""
import argparse
import json
import resource
import sqlite3
import sys
import threading
import time

import paho.mqtt.client as mqtt

BATCH = 1000

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--client-id", required=True)
parser.add_argument("--db", required=True)
parser.add_argument("--topic", default="agri/+/telemetry")
parser.add_argument("--create-session", action="store_true")
parser.add_argument("--expect", type=int, default=0)
args = parser.parse_args()

db = sqlite3.connect(args.db, check_same_thread=False)
db.execute("PRAGMA journal_mode=WAL")
db.execute("PRAGMA synchronous=NORMAL")
db.execute("CREATE TABLE IF NOT EXISTS readings (device TEXT, metric TEXT, ts INTEGER, value REAL)")
db.commit()

lock = threading.Lock()
done = threading.Event()
subscribed = threading.Event()
pending = []
state = {"messages": 0, "readings": 0, "last_commit": time.monotonic()}


def flush():
    if pending:
        db.executemany("INSERT INTO readings VALUES (?, ?, ?, ?)", pending)
        db.commit()
        pending.clear()
    state["last_commit"] = time.monotonic()


def on_connect(client, userdata, flags, reason_code, properties):
    client.subscribe(args.topic, qos=1)


def on_subscribe(client, userdata, mid, reason_codes, properties):
    subscribed.set()


def on_message(client, userdata, msg):
    device = msg.topic.split("/")[1]
    try:
        body = json.loads(msg.payload)
        ts = int(body["ts"])
        rows = [(device, k, ts, float(v)) for k, v in body["values"].items()]
    except (ValueError, KeyError, TypeError):
        return
    with lock:
        pending.extend(rows)
        state["messages"] += 1
        state["readings"] += len(rows)
        if state["messages"] % BATCH == 0 or time.monotonic() - state["last_commit"] > 0.2:
            flush()
        if args.expect and state["messages"] >= args.expect:
            flush()
            done.set()


client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=args.client_id, clean_session=False)
client.max_inflight_messages_set(1000)
client.on_connect = on_connect
client.on_subscribe = on_subscribe
client.on_message = on_message
start = time.monotonic()
client.connect("127.0.0.1", args.port, keepalive=60)
client.loop_start()
if args.create_session:
    ok = subscribed.wait(10)
    client.disconnect()
    client.loop_stop()
    sys.exit(0 if ok else 1)
while not done.wait(0.2):
    with lock:
        if time.monotonic() - state["last_commit"] > 0.2:
            flush()
client.disconnect()
client.loop_stop()
seconds = time.monotonic() - start
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({
    "cpu_seconds": usage.ru_utime + usage.ru_stime,
    "messages": state["messages"], "readings": state["readings"], "seconds": seconds,
    "max_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
}))

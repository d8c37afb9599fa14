"""User-Agents for tests: a person's browser, and the crawlers mixtrack must not expose.

Scripted clients (curl, python-httpx, python-requests) are on the crawler list, as they
should be in production: tests that stand for a person send :data:`FIREFOX`.
"""

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"
CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
GPTBOT = (
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; "
    "+https://openai.com/gptbot)"
)
UPTIME_ROBOT = "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)"
#: A person's browser as a header dict, for httpx and the framework test clients.
PERSON = {"User-Agent": FIREFOX}

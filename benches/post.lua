-- wrk script: the POST variant (fields allowlist + garde validation on the secured server).
wrk.method = "POST"
wrk.body   = '{"title":"Groceries","body":"milk, eggs, bread"}'
wrk.headers["Content-Type"] = "application/json"

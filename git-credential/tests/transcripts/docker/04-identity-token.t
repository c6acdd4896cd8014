# identity token.
$ store
{"ServerURL":"registry.example.com","Username":"<token>","Secret":"tok&en>"}
? 0
$ get
registry.example.com
? 0
{"ServerURL":"registry.example.com","Username":"\u003ctoken\u003e","Secret":"tok\u0026en\u003e"}
$ list
? 0
{"registry.example.com":"\u003ctoken\u003e"}

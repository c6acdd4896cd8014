# store json forms.
$ store
{
  "serverurl": "a.example",
  "USERNAME": "ann",
  "secret": "one",
  "Extra": {"nested": [1, 2.5e3, true, null, "x"]}
}
? 0
$ get
a.example{NOEOL}
? 0
{"ServerURL":"a.example","Username":"ann","Secret":"one"}
$ store
{"ServerURL": "b.example", "Username": "bo"}{NOEOL}
? 0
$ get
b.example{NOEOL}
? 0
{"ServerURL":"b.example","Username":"bo","Secret":""}
$ store
{"ServerURL":"c.example","Username":"cy","Secret":null}{CR}
? 0
$ get
c.example{NOEOL}
? 0
{"ServerURL":"c.example","Username":"cy","Secret":""}
$ store
{"ServerURL":"a.example","Username":"ann2","Secret":"two"}{NOEOL}
? 0
$ list
? 0
{"a.example":"ann2","b.example":"bo","c.example":"cy"}
$ get
a.example{NOEOL}
? 0
{"ServerURL":"a.example","Username":"ann2","Secret":"two"}

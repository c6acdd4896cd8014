# get input forms.
$ store
{"ServerURL":"g.example:8443","Username":"gus","Secret":"gg"}{NOEOL}
? 0
$ get
  g.example:8443  {CR}
? 0
{"ServerURL":"g.example:8443","Username":"gus","Secret":"gg"}
$ get
g.example
:8443
? 0
{"ServerURL":"g.example:8443","Username":"gus","Secret":"gg"}
$ get
? 1
no credentials server URL
$ get
 
{x09}{CR}
? 1
no credentials server URL
$ erase
? 1
no credentials server URL
$ erase
never.stored.example
? 0
$ list
? 0
{"g.example:8443":"gus"}

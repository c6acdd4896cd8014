# wwwauth[], state[] and continue are accepted and never stored or echoed.
$ store
capability[]=authtype
capability[]=state
protocol=https
host=example.com
username=bob
password=s3cret
wwwauth[]=Basic realm="example"
wwwauth[]=Bearer realm="example", error="invalid_token"
state[]=other-helper:xyz
continue=1
? 0
$ get
protocol=https
host=example.com
wwwauth[]=Basic realm="example"
state[]=other-helper:xyz
continue=0
? 0
username=bob
password=s3cret

# ephemeral=1: the credential is not stored (git still calls store).
$ store
capability[]=authtype
protocol=https
host=example.com
authtype=Digest
credential=one-time
ephemeral=1
? 0
$ store
protocol=https
host=example.com
username=bob
password=short-lived
ephemeral=true
? 0
$ get
capability[]=authtype
protocol=https
host=example.com
? 0
$ store
protocol=https
host=example.com
username=bob
password=kept
ephemeral=0
? 0
$ get
protocol=https
host=example.com
? 0
username=bob
password=kept

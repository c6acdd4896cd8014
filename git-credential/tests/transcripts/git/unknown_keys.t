# Unknown keys and unknown capabilities are ignored.
$ store
capability[]=future-thing
protocol=https
x-custom=whatever
host=example.com
username=bob
password=s3cret
quit=1
? 0
$ get
capability[]=future-thing
protocol=https
host=example.com
frobnicate=yes
? 0
username=bob
password=s3cret

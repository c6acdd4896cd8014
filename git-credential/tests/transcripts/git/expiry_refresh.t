# password_expiry_utc and oauth_refresh_token are stored and returned; an
# expired entry is returned as it is (git itself drops the expired password
# and keeps the refresh token).
$ store
protocol=https
host=forge.example
username=oauth2
password=access-token
password_expiry_utc=4102444800
oauth_refresh_token=refresh-token
? 0
$ get
protocol=https
host=forge.example
? 0
username=oauth2
password=access-token
password_expiry_utc=4102444800
oauth_refresh_token=refresh-token
$ store
protocol=https
host=old.example
username=oauth2
password=stale-token
password_expiry_utc=1000
oauth_refresh_token=still-good
? 0
$ get
protocol=https
host=old.example
? 0
username=oauth2
password=stale-token
password_expiry_utc=1000
oauth_refresh_token=still-good
# 0 means "no expiry", as in git.
$ store
protocol=https
host=zero.example
username=u
password=p
password_expiry_utc=0
? 0
$ get
protocol=https
host=zero.example
? 0
username=u
password=p
$ store
protocol=https
host=bad.example
username=u
password=p
password_expiry_utc=tomorrow
? 1
! password_expiry_utc

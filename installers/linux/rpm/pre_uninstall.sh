# $1 = 0: erase (an upgrade's new post_install re-applies instead).
if [ "$1" -eq 0 ] && [ -x /usr/sbin/paraphe-deploy ]; then
  /usr/sbin/paraphe-deploy remove || :
fi
exit 0

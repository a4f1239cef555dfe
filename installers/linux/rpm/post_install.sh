# See paraphe-deploy(8). A broken deploy.conf must not fail the transaction.
/usr/sbin/paraphe-deploy apply \
  || echo "paraphe: 'paraphe-deploy apply' failed; fix /etc/paraphe/deploy.conf, then run it again" >&2
exit 0

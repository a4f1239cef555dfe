if [ "$1" -eq 0 ]; then
  rm -rf /var/lib/paraphe
fi
exit 0

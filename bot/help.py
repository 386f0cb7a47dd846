"""The text of `/meet help`: every command with an example that works."""

HELP = """\
/meet                                  start a meeting now
/meet Design review at 15:00 for 45m   schedule one; add remind 15m, with @ana @raj
  when:   at 3pm · at 10 (10:00; 1 to 6 need am/pm) · 15h30 · noon · in 20m · in 2 days at 10
          tomorrow 9am · mon 10:30 · this fri at 4pm · next fri at 4pm (Friday of next week)
          dec 3 at 3pm · 3 dec · december 3rd (no year: the next one) · 2026-12-01 14:00
  span:   3pm-4pm · 15:00–16:30 · from 3pm to 4:30pm · for 1h30 · for 1 hour 30 minutes
  zone:   at 9am America/New_York · 9am EST · 15:00 UTC+2 (name the zone for IST, BST)
  words that look like a time are read or refused, never put in the title:
  quote such a title: /meet "Budget 2028" at 15:00
/meet Standup every weekday at 9:30 for 15m   post a fresh link on a schedule
  also:   every other week on tue at 10 · every month on the 15th · every first monday
          every last friday · ... until jun 30 · ... for 10 times
/meet Retro at 16:00 nofeedback        no feedback prompt afterwards
/meet schedule                         open the scheduling form
/meet list                             upcoming and running meetings here
/meet end <id>    /meet cancel <id>    end or cancel a meeting (organizer or admin)
/meet host <id>                        send me my host link again, privately
/meet rsvp <id> yes|maybe|no           answer for a meeting (the card's buttons do the same)
/meet remind me <id>   /meet link <id> a private reminder; my own join link, privately
/meet move <id> tomorrow at 15:00      move a meeting (a fresh room; organizer or admin)
/meet rename <id> Sprint retro         rename it;  /meet move <series> every mon at 9:30
/meet skip <series> [date]   /meet pause <series>   /meet resume <series>
/meet feedback <id>                    the feedback summary (organizer)
/meet rate <id> 4 great pace           rate a meeting that ended (1–5, comment optional)
/meet tz Europe/Berlin                 set my time zone
/meet calendar [reset]                 my calendar feed, privately; reset revokes the old address
/meet config [provider whereby | reminder 10m | length 30m | feedback on|off]   (admins)
  switches: config mentions|events|calls on|off (mention people in reminders; Discord events;
            Slack's call card)
Join links go to the channel; host links only ever reach you privately."""

"""The text of `/meet help`: every command with an example that works."""

HELP = """\
/meet                                  start a meeting now
/meet Design review at 15:00 for 45m   schedule one (also: in 20m, tomorrow 9am, mon 10:30,
                                       2026-12-01 14:00; add remind 15m, with @ana @raj)
/meet Standup every weekday at 9:30 for 15m   post a fresh link on a schedule
/meet Retro at 16:00 nofeedback        no feedback prompt afterwards
/meet schedule                         open the scheduling form
/meet list                             upcoming and running meetings here
/meet end <id>    /meet cancel <id>    end or cancel a meeting (organizer or admin)
/meet host <id>                        send me my host link again, privately
/meet skip <series> [date]   /meet pause <series>   /meet resume <series>
/meet feedback <id>                    the feedback summary (organizer)
/meet rate <id> 4 great pace           rate a meeting that ended (1–5, comment optional)
/meet tz Europe/Berlin                 set my time zone
/meet config [provider whereby | reminder 10m | length 30m | feedback on|off]   (admins)
Join links go to the channel; host links only ever reach you privately."""

%% term_to_binary / binary_to_term of the terms bench/term_bench.cpp measures,
%% in ns per operation, the median of 5 runs (as the C++ side reports with
%% --benchmark_repetitions=5). Run: taskset -c 1 escript bench/term_bench.erl
-module(term_bench).
-mode(compile).
-export([main/1]).

main(_) ->
    Terms = [{small_message, {self(), {add, 5}}},
             {int_list_100, lists:seq(1000, 1099)},
             {binary_1k, binary:copy(<<"x">>, 1024)},
             {nested_map, #{name => <<"otter">>, id => 7, tags => [a, b, c],
                            inner => #{x => 1.5, y => -2.5, z => {1, 2}}}}],
    Opts = [{minor_version, 2}],
    lists:foreach(
      fun({Name, T}) ->
              B = term_to_binary(T, Opts),
              Enc = per_op(fun() -> term_to_binary(T, Opts) end),
              Dec = per_op(fun() -> binary_to_term(B) end),
              io:format("~-14s encode ~7.1f ns   decode ~7.1f ns   (~B bytes)~n",
                        [Name, Enc, Dec, byte_size(B)])
      end, Terms).

%% Median of 5 runs of a loop long enough to take ~0.2 s.
per_op(F) ->
    N = calibrate(F, 1000),
    lists:nth(3, lists:sort([run(F, N) / N || _ <- lists:seq(1, 5)])).

calibrate(F, N) ->
    case run(F, N) of
        T when T > 2.0e8 -> N;
        _ -> calibrate(F, N * 4)
    end.

run(F, N) ->
    T0 = erlang:monotonic_time(nanosecond),
    loop(F, N),
    erlang:monotonic_time(nanosecond) - T0.

loop(_, 0) -> ok;
loop(F, N) -> F(), loop(F, N - 1).

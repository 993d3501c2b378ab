%% term_to_binary / binary_to_term of the terms bench/term_bench.cpp measures,
%% in ns per operation, the median of 5 runs (as the C++ side reports with
%% --benchmark_repetitions=5), wall clock and CPU time.
%% Run: taskset -c 1 escript bench/term_bench.erl
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
    io:format("ns per operation: wall clock, and CPU time of the runtime's threads~n"),
    lists:foreach(
      fun({Name, T}) ->
              B = term_to_binary(T, Opts),
              {EncW, EncC} = per_op(fun() -> term_to_binary(T, Opts) end),
              {DecW, DecC} = per_op(fun() -> binary_to_term(B) end),
              io:format("~-14s encode ~7.1f ns (cpu ~7.1f)   decode ~7.1f ns (cpu ~7.1f)   (~B bytes)~n",
                        [Name, EncW, EncC, DecW, DecC, byte_size(B)])
      end, Terms).

%% Medians of 5 runs of a loop long enough to take ~0.5 s (CPU time is counted in ms).
per_op(F) ->
    N = calibrate(F, 1000),
    Runs = [run(F, N) || _ <- lists:seq(1, 5)],
    {median([W / N || {W, _} <- Runs]), median([C / N || {_, C} <- Runs])}.

median(L) -> lists:nth(3, lists:sort(L)).

calibrate(F, N) ->
    case run(F, N) of
        {T, _} when T > 5.0e8 -> N;
        _ -> calibrate(F, N * 2)
    end.

run(F, N) ->
    {C0, _} = erlang:statistics(runtime),
    T0 = erlang:monotonic_time(nanosecond),
    loop(F, N),
    T1 = erlang:monotonic_time(nanosecond),
    {C1, _} = erlang:statistics(runtime),
    {T1 - T0, (C1 - C0) * 1.0e6}.

loop(_, 0) -> ok;
loop(F, N) -> F(), loop(F, N - 1).
